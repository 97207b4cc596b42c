"""The public API is `whyword.__all__`: pinned here, so a name leaves or arrives on purpose."""

from __future__ import annotations

import re
from pathlib import Path

import whyword as ww

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = {
    "Ablation", "Attribution", "AttributionMatrix", "Candidate", "Completeness", "Component",
    "DEFAULT_METHODS", "DirectLogits", "RelevanceAgreement",
    "EvidenceResult", "ExplainOptions", "ExplainRequest", "Explanation", "GenerateOptions",
    "Generation", "InputError", "LayerLens", "LayerRow", "LoadedModel", "METHODS", "Method", "MethodOutput",
    "MethodScores", "ModelLoadError", "OBJECTIVES", "Output", "OutputRow", "PAGE_METHODS",
    "PositionRow", "PositionTable", "Prediction", "Problem", "Scores", "Stage", "Step",
    "TargetError", "Token", "TokenGroup", "WhyWordError", "__version__", "attribute",
    "attention", "HeadAttention", "component_relevance", "ComponentRelevance", "Neuron",
    "byte_groups", "explain", "explain_many", "explain_with_evidence", "generate",
    "layers", "load_model", "positions", "predict", "register_method", "register_objective",
    "with_stage", "counterfactuals", "Counterfactual", "HotFlip", "MinimalFlip", "Reading",
    "Reduction", "ReductionStep", "Subject", "Substitution",
    "chat", "ChatExplanation", "ChatResult", "Message", "SpanTarget", "UnitScore",
    "compare", "Comparison",
    "explain_dataset", "read_rows", "summarize", "DatasetRow", "RowResult", "Summary",
    "MethodSummary",
}  # fmt: skip


def test_all_is_pinned_and_every_name_exists():
    assert set(ww.__all__) == PUBLIC
    assert len(ww.__all__) == len(set(ww.__all__)), "a name listed twice"
    for name in ww.__all__:
        assert getattr(ww, name, None) is not None, name


def test_the_public_functions_are_functions_not_modules():
    for name in ("explain", "attribute", "predict", "positions", "generate"):
        assert callable(getattr(ww, name)), name


def test_every_name_the_readme_uses_is_public():
    """`ww.<name>` and `from whyword import <names>` in the README's code all exist."""
    text = (ROOT / "README.md").read_text()
    code = "\n".join(re.findall(r"```python\n(.*?)```", text, flags=re.S))
    used = set(re.findall(r"\bww\.([A-Za-z_]+)", code))
    for names in re.findall(r"from whyword import ([^\n]+)", code):
        used.update(n.strip().split(" as ")[0] for n in names.split(","))
    used -= {"attr"}  # the attribution sub-package (`ww.attr.MethodOutput`)
    assert used, "the README shows no API"
    assert used <= PUBLIC, used - PUBLIC
