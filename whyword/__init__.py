"""WhyWord: see why a language model predicts the word it predicts."""

from whyword._version import __version__
from whyword.attribution import METHODS
from whyword.errors import InputError, ModelLoadError, TargetError, WhyWordError
from whyword.explain import explain
from whyword.explanation import Attribution, Candidate, Explanation, Prediction
from whyword.models import LoadedModel, load_model
from whyword.options import ExplainOptions
from whyword.predict import predict
from whyword.tokens import Token

__all__ = [
    "METHODS",
    "Attribution",
    "Candidate",
    "ExplainOptions",
    "Explanation",
    "InputError",
    "LoadedModel",
    "ModelLoadError",
    "Prediction",
    "TargetError",
    "Token",
    "WhyWordError",
    "__version__",
    "explain",
    "load_model",
    "predict",
]
