"""WhyWord: see why a language model predicts the word it predicts."""

from whyword._version import __version__
from whyword.attr import METHODS, Problem, register_method
from whyword.attribute import Output, attribute
from whyword.errors import InputError, ModelLoadError, TargetError, WhyWordError
from whyword.evidence import EvidenceResult, explain_with_evidence
from whyword.explain import ExplainRequest, explain, explain_many, with_stage
from whyword.explanation import Attribution, Candidate, Explanation, Prediction
from whyword.generate import Generation, Step, generate
from whyword.matrix import AttributionMatrix, Completeness, MethodScores, OutputRow, Stage
from whyword.models import LoadedModel, load_model
from whyword.objectives import OBJECTIVES, Scores, register_objective
from whyword.options import DEFAULT_METHODS, PAGE_METHODS, ExplainOptions, GenerateOptions
from whyword.positions import PositionRow, PositionTable, positions
from whyword.predict import predict
from whyword.tokens import Token, TokenGroup, byte_groups

__all__ = [
    "ExplainRequest",
    "explain_many",
    "DEFAULT_METHODS",
    "PAGE_METHODS",
    "METHODS",
    "OBJECTIVES",
    "Attribution",
    "AttributionMatrix",
    "Candidate",
    "Completeness",
    "ExplainOptions",
    "EvidenceResult",
    "Explanation",
    "GenerateOptions",
    "Generation",
    "InputError",
    "LoadedModel",
    "MethodScores",
    "ModelLoadError",
    "Output",
    "OutputRow",
    "PositionRow",
    "PositionTable",
    "Prediction",
    "Problem",
    "Scores",
    "Stage",
    "Step",
    "TargetError",
    "Token",
    "TokenGroup",
    "byte_groups",
    "WhyWordError",
    "attribute",
    "__version__",
    "explain",
    "explain_with_evidence",
    "generate",
    "load_model",
    "positions",
    "predict",
    "register_method",
    "register_objective",
    "with_stage",
]
