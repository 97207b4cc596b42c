"""Result objects: frozen, self-checking, serialisable. No model, no tensors, no rendering libs."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar

from whyword.results.display import Displayable
from whyword.results.edit_agreement import EditAgreement
from whyword.results.params import params_from_dict
from whyword.text.segments import Segmentation, aggregate, segmentation_from_dict
from whyword.text.tokens import Token


@dataclass(frozen=True)
class Candidate:
    """One predicted token with its probability."""

    token_id: int
    text: str  # exact text, leading space included
    label: str  # readable: `␣Paris`
    log_prob: float

    @property
    def probability(self) -> float:
        return math.exp(self.log_prob)


@dataclass(frozen=True)
class Prediction:
    """The top-k candidates for one slot: the next token, one [MASK], or an infill gap."""

    candidates: tuple[Candidate, ...]
    scoring: str  # "next_token" | "masked" | "infill"
    mask: int | None = None  # which mask (0-based) in masked / infill mode
    note: str = ""  # how the probabilities were computed, when it is not plain softmax
    pool: tuple[int, ...] = ()  # infill: every candidate the probabilities are normalised over

    def __post_init__(self) -> None:
        probs = [c.log_prob for c in self.candidates]
        assert probs == sorted(probs, reverse=True), "candidates must be sorted"

    def rows(self) -> list[dict[str, Any]]:
        rows = []
        for rank, c in enumerate(self.candidates, start=1):
            row = {
                "rank": rank,
                "token": c.label,
                "token_id": c.token_id,
                "probability": c.probability,
            }
            if self.mask is not None:
                row["mask"] = self.mask
            rows.append(row)
        return rows


@dataclass(frozen=True)
class Attribution:
    """One method's score per input token, with what it means and how well it converged."""

    method: str
    scores: tuple[float, ...]  # one per input token; 0 for tokens that are not attributed
    signed: bool  # False: magnitudes only (saliency) — no "against" colour
    params: Any = None  # the method's typed parameters (whyword/results/params.py), None if none
    seconds: float = 0.0
    convergence_delta: float | None = None  # IG: sum(scores) - (F(x) - F(baseline))
    relative_error: float | None = None  # IG: |delta| / |F(x) - F(baseline)|
    f_input: float | None = None
    f_baseline: float | None = None
    steps: int | None = None  # gradient evaluations used (IG, SmoothGrad)
    note: str = ""
    error_bound: float | None = None  # IG: Σ|interval checks| / |gap| (no cancelling)
    intervals: int | None = None  # IG: sub-intervals of the path at the end
    stdev: float | None = None  # SmoothGrad: the noise in embedding units
    # Faithfulness (whyword/engine/faithfulness.py): areas of the normalised curves; random ≈ 0.5
    deletion: float | None = None  # remove tokens in score order: lower is better
    insertion: float | None = None  # put them back in score order: higher is better
    deletion_curve: tuple[float, ...] | None = None  # F over k = 0..n removed, 1 → 0
    insertion_curve: tuple[float, ...] | None = None  # F over k = 0..n inserted, 0 → 1
    random_deletion: float | None = None  # a random order's area (the same baseline both ways)
    random_insertion: float | None = None
    curve_precision: str | None = None  # "fp32" | "bf16": the curves' arithmetic
    # Set by the page's "What would change the answer?" (results/edit_agreement.py): Spearman's
    # ρ of |score| and the verified single-token edits' largest |ΔF| per position
    edit_agreement: EditAgreement | None = None

    def __post_init__(self) -> None:
        assert all(math.isfinite(s) for s in self.scores), f"{self.method}: non-finite score"
        curves = (self.deletion_curve, self.insertion_curve)
        assert (self.deletion is None) == (curves[0] is None) == (curves[1] is None)
        assert self.signed or all(s >= 0 for s in self.scores), f"{self.method}: unsigned < 0"


@dataclass(frozen=True)
class Explanation(Displayable):
    """Everything one `explain` call found: predictions, target, and one attribution per method.
    In a notebook it draws itself as the page's heatmap; `show(level="word", methods=...)`."""

    display_as: ClassVar[str] = "explanation"

    text: str
    model: str
    kind: str  # "causal" | "masked"
    mode: str  # "next_token" | "masked" | "infill"
    tokens: tuple[Token, ...]
    predictions: tuple[Prediction, ...]
    target: str  # exact text of the explained target
    target_ids: tuple[int, ...]
    foil: str | None
    foil_ids: tuple[int, ...] | None
    objective: str  # "log_prob" | "contrastive"
    formula: str  # e.g. "log p(target) − log p(foil)"
    value: float  # the attributed scalar at the real input
    target_log_prob: float
    attributions: tuple[Attribution, ...]
    mask: int | None = None
    params: dict[str, Any] = field(default_factory=dict)  # the ExplainOptions used
    timings: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    held: tuple[int, ...] = ()  # tokens IG held at their real embedding (they score 0)
    gap: int | None = None  # infill: where the candidate goes in the input
    version: int = 2  # of the JSON layout: 2 typed method params, `held` and `gap` (1: in params)
    segmentations: tuple[Segmentation, ...] = ()  # the tokens as words and as sentences

    def __post_init__(self) -> None:
        n = len(self.tokens)
        for a in self.attributions:
            assert len(a.scores) == n, f"{a.method}: {len(a.scores)} scores for {n} tokens"
        assert len({a.method for a in self.attributions}) == len(self.attributions)
        assert all(s.n_tokens == n for s in self.segmentations)

    @property
    def loss(self) -> float:
        """Cross-entropy of the target: -log p(target)."""
        return -self.target_log_prob

    @property
    def target_probability(self) -> float:
        return math.exp(self.target_log_prob)

    def attribution(self, method: str) -> Attribution:
        for a in self.attributions:
            if a.method == method:
                return a
        raise KeyError(method)

    def segmentation(self, level: str) -> Segmentation:
        for seg in self.segmentations:
            if seg.level == level:
                return seg
        raise KeyError(f"No {level} segmentation in this explanation.")

    def at_level(self, level: str) -> Explanation:
        """The same explanation with one "token" per word (or sentence): scores aggregated
        (signed summed, saliency as the L2 norm), a unit held when all its tokens are."""
        if level == "token":
            return self
        seg = self.segmentation(level)
        units = tuple(
            Token(
                id=self.tokens[s.tokens[0]].id,
                text=s.label,
                label=s.label,
                special=all(self.tokens[i].special for i in s.tokens),
                attributed=any(self.tokens[i].attributed for i in s.tokens),
            )
            for s in seg.segments
        )
        of = seg.segment_of()
        held = tuple(k for k, s in enumerate(seg.segments) if all(i in self.held for i in s.tokens))
        attributions = tuple(
            replace(a, scores=self.segment_scores(a.method, level)) for a in self.attributions
        )
        gap = None if self.gap is None else (of[self.gap] if self.gap < len(of) else len(units))
        return replace(
            self,
            tokens=units,
            attributions=attributions,
            held=held,
            gap=gap,
            segmentations=(),
        )

    def segment_scores(self, method: str, level: str = "word") -> tuple[float, ...]:
        """One score per word (or sentence): signed summed, unsigned as the L2 norm."""
        a = self.attribution(method)
        return tuple(float(v) for v in aggregate(a.scores, self.segmentation(level), a.signed))

    def to_dataframe(self, level: str = "token"):
        """One row per token (or word / sentence); one column per method."""
        import pandas as pd

        if level != "token":
            seg = self.segmentation(level)
            frame = pd.DataFrame(
                {
                    level: list(seg.labels),
                    "tokens": [len(s.tokens) for s in seg.segments],
                }
            )
            for a in self.attributions:
                frame[a.method] = list(self.segment_scores(a.method, level))
            return frame

        frame = pd.DataFrame(
            {
                "position": range(len(self.tokens)),
                "token": [t.label for t in self.tokens],
                "token_id": [t.id for t in self.tokens],
                "special": [t.special for t in self.tokens],
            }
        )
        for a in self.attributions:
            frame[a.method] = list(a.scores)
        return frame

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Explanation:
        data = dict(data)
        data.pop("whyword_version", None)  # written by render.export_json
        data["tokens"] = tuple(Token(**t) for t in data["tokens"])
        data["predictions"] = tuple(
            Prediction(
                **{
                    **p,
                    "candidates": tuple(Candidate(**c) for c in p["candidates"]),
                    "pool": tuple(p.get("pool") or ()),
                }
            )
            for p in data["predictions"]
        )
        if data.get("version", 1) < 2:  # version 1 kept anchors and gap in the options dict
            params = dict(data.get("params") or {})
            data["held"] = tuple(params.pop("anchors", None) or ())
            data["gap"] = params.pop("gap", None)
            data["params"] = params
            data["version"] = 2
        data["attributions"] = tuple(_attribution(a) for a in data["attributions"])
        data["held"] = tuple(data.get("held") or ())
        data["segmentations"] = tuple(
            segmentation_from_dict(s) for s in data.get("segmentations") or ()
        )
        data["target_ids"] = tuple(data["target_ids"])
        data["foil_ids"] = tuple(data["foil_ids"]) if data["foil_ids"] is not None else None
        data["notes"] = tuple(data["notes"])
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> Explanation:
        return cls.from_dict(json.loads(text))


def _attribution(a: dict[str, Any]) -> Attribution:
    a = dict(a)
    a["scores"] = tuple(a["scores"])
    params = a.get("params")
    if isinstance(params, dict) and a["method"] == "integrated_gradients":  # version 1 extras
        a.setdefault("error_bound", params.get("error_bound"))
        a.setdefault("intervals", params.get("intervals"))
        if "ig_tolerance" in params:
            params = {
                "nodes_per_interval": 4,  # version 1's default
                **params,
                "tolerance": params["ig_tolerance"],
                "grading": params["ig_grading"],
            }
    if isinstance(params, dict) and a["method"] == "smoothgrad":
        a.setdefault("stdev", params.get("stdev"))
    a["params"] = params_from_dict(a["method"], params) if params else None
    for curve in ("deletion_curve", "insertion_curve"):
        if a.get(curve) is not None:
            a[curve] = tuple(a[curve])
    edits = a.get("edit_agreement")
    if isinstance(edits, dict):
        a["edit_agreement"] = EditAgreement(
            **{**edits, "positions": tuple(edits["positions"]), "effects": tuple(edits["effects"])}
        )
    return Attribution(**a)
