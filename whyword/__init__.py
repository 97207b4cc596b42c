"""WhyWord: see why a language model predicts the word it predicts."""

from whyword._version import __version__
from whyword.attr import METHODS, Method, MethodOutput, Problem, register_method
from whyword.attr.objectives import OBJECTIVES, Scores, register_objective
from whyword.engine.outputs import SpanTarget
from whyword.engine.predict import predict
from whyword.errors import InputError, ModelLoadError, TargetError, WhyWordError
from whyword.evidence import EvidenceResult, explain_with_evidence
from whyword.models.load import LoadedModel, load_model
from whyword.render import compare as _compare  # noqa: F401  (registers the Comparison display)
from whyword.render import notebook as _notebook  # noqa: F401  (registers the notebook display)
from whyword.results.attention import ComponentRelevance, HeadAttention, Neuron, RelevanceAgreement
from whyword.results.compare import Comparison
from whyword.results.components import Ablation, Component, DirectLogits
from whyword.results.counterfactuals import (
    Counterfactual,
    HotFlip,
    MinimalFlip,
    Reading,
    Reduction,
    ReductionStep,
    Subject,
    Substitution,
)
from whyword.results.dataset import DatasetRow, MethodSummary, RowResult, Summary, summarize
from whyword.results.explanation import Attribution, Candidate, Explanation, Prediction
from whyword.results.layers import LayerLens, LayerRow
from whyword.results.matrix import AttributionMatrix, Completeness, MethodScores, OutputRow, Stage
from whyword.runtime.options import DEFAULT_METHODS, PAGE_METHODS, ExplainOptions, GenerateOptions
from whyword.tasks.attention import attention
from whyword.tasks.attribute import Output, attribute
from whyword.tasks.chat import chat
from whyword.tasks.chat_result import ChatExplanation, ChatResult, UnitScore
from whyword.tasks.compare import compare
from whyword.tasks.counterfactuals import counterfactuals
from whyword.tasks.dataset import explain_dataset
from whyword.tasks.explain import ExplainRequest, explain, explain_many, with_stage
from whyword.tasks.generate import Generation, Step, generate
from whyword.tasks.layers import layers
from whyword.tasks.positions import PositionRow, PositionTable, positions
from whyword.tasks.relevance import component_relevance
from whyword.tasks.rows import read_rows
from whyword.text.chat import Message
from whyword.text.tokens import Token, TokenGroup, byte_groups

__all__ = [
    "compare",
    "Comparison",
    "chat",
    "ChatExplanation",
    "ChatResult",
    "Message",
    "SpanTarget",
    "UnitScore",
    "ExplainRequest",
    "explain_many",
    "explain_dataset",
    "read_rows",
    "summarize",
    "DatasetRow",
    "RowResult",
    "Summary",
    "MethodSummary",
    "DEFAULT_METHODS",
    "PAGE_METHODS",
    "METHODS",
    "Method",
    "MethodOutput",
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
    "layers",
    "counterfactuals",
    "Counterfactual",
    "HotFlip",
    "MinimalFlip",
    "Reading",
    "Reduction",
    "ReductionStep",
    "Subject",
    "Substitution",
    "LayerLens",
    "LayerRow",
    "Ablation",
    "Component",
    "DirectLogits",
    "RelevanceAgreement",
    "attention",
    "HeadAttention",
    "component_relevance",
    "ComponentRelevance",
    "Neuron",
    "load_model",
    "positions",
    "predict",
    "register_method",
    "register_objective",
    "with_stage",
]
