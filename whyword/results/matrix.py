"""The attribution matrix: outputs × input tokens, per method. Frozen, self-checking, torch-free.

Each row is one explained output (a position's next token, a generated step, a mask, a
target/foil pair); each column an input token. A cell a row cannot depend on (a causal row's
later tokens) is NaN — "not in context" — never a 0 that pretends to be a score.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from whyword.results.display import Displayable
from whyword.results.params import params_from_dict
from whyword.text.segments import Segmentation, aggregate, segmentation_from_dict
from whyword.text.tokens import Token


@dataclass(frozen=True)
class Completeness:
    """How well one row's IG scores add up to F(input) − F(baseline)."""

    f_input: float
    f_baseline: float
    delta: float  # Σ scores − (F(x) − F(x')), exact against the two end-point forwards
    relative_error: float | None  # |delta| / |F(x) − F(x')| (None when that gap is ~0)
    error_bound: float | None  # Σ|interval checks| / |gap|: the error with no cancelling
    steps: int  # gradient evaluations this row used
    intervals: int  # sub-intervals of the path at the end


@dataclass(frozen=True)
class Faithfulness:
    """One row's deletion and insertion curves for one method (whyword/engine/faithfulness.py).

    Curves run over k = 0..n removable tokens, normalised so F(full input) = 1 and F(every
    removable token at the reference) = 0; areas by trapezoids over k / n. A random order
    scores ≈ 0.5 on both: deletion lower is better, insertion higher is better."""

    deletion: float
    insertion: float
    deletion_curve: tuple[float, ...]
    insertion_curve: tuple[float, ...]
    random_deletion: float  # the mean area of seeded random orders (faithfulness.RANDOM_ORDERS)
    random_insertion: float
    curve_precision: str = "fp32"  # the curves' arithmetic (whyword.runtime.precision.curves)

    def __post_init__(self) -> None:
        assert self.curve_precision in ("fp32", "bf16"), self.curve_precision
        n = len(self.deletion_curve)
        assert n >= 2 and len(self.insertion_curve) == n, "curves over 0..n tokens, n ≥ 1"
        values = (self.deletion, self.insertion, self.random_deletion, self.random_insertion)
        assert all(math.isfinite(v) for v in (*values, *self.deletion_curve, *self.insertion_curve))
        assert math.isclose(self.deletion_curve[0], 1.0) and math.isclose(
            self.insertion_curve[-1], 1.0
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Faithfulness:
        data = dict(data)
        data["deletion_curve"] = tuple(data["deletion_curve"])
        data["insertion_curve"] = tuple(data["insertion_curve"])
        return cls(**data)


@dataclass(frozen=True)
class OutputRow:
    """What one row explains."""

    label: str  # readable, e.g. "position 3 → ␣Paris"
    position: int | None  # the input token whose logits read the target (causal) / the mask
    target: str  # exact text of the target (leading space included)
    target_ids: tuple[int, ...]
    foil: str | None
    foil_ids: tuple[int, ...] | None
    objective: str
    formula: str
    value: float  # the objective at the real input
    target_log_prob: float  # log p(target) as the predictions show it (one number per target)

    @property
    def target_probability(self) -> float:
        return math.exp(self.target_log_prob)


@dataclass(frozen=True)
class MethodScores:
    """One method's rows × tokens scores."""

    method: str
    signed: bool
    scores: tuple[tuple[float, ...], ...]  # (R, T); NaN = not in the row's context
    params: Any = None  # the method's typed parameters (attr/params.py), None if it has none
    seconds: float = 0.0
    steps: int | None = None  # gradient evaluations per row (the most any row used)
    completeness: tuple[Completeness, ...] | None = None  # per row (IG)
    stdev: float | None = None  # SmoothGrad's noise in embedding units
    faithfulness: tuple[Faithfulness | None, ...] | None = None  # per row (None: undefined)

    def __post_init__(self) -> None:
        widths = {len(r) for r in self.scores}
        assert len(widths) <= 1, f"{self.method}: ragged score rows"
        cells = [s for row in self.scores for s in row if not math.isnan(s)]
        assert all(math.isfinite(s) for s in cells), f"{self.method}: infinite score"
        assert self.signed or all(s >= 0 for s in cells), f"{self.method}: unsigned < 0"
        if self.completeness is not None:
            assert len(self.completeness) == len(self.scores)
        if self.faithfulness is not None:
            assert len(self.faithfulness) == len(self.scores), "one faithfulness per row"


@dataclass(frozen=True)
class Stage:
    """A refining method's scores so far (IG after its first pass and after each round of
    halving), handed to `ExplainOptions.on_stage` while the request still runs. The last stage
    (`final`) holds the method's final scores; the others will still change."""

    scores: MethodScores  # rows × tokens so far; completeness per row; steps and time so far
    context: tuple[tuple[bool, ...], ...]  # (R, T): can the row depend on the token?
    final: bool  # no further refinement: these are the method's scores in the result
    tolerance: float | None = None  # the relative completeness error it refines towards
    held: tuple[int, ...] = ()  # tokens held at their real embedding (IG score 0)

    def __post_init__(self) -> None:
        assert len(self.context) == len(self.scores.scores), "one context row per score row"
        for row, ctx in zip(self.scores.scores, self.context, strict=True):
            assert len(row) == len(ctx), f"{self.scores.method}: a score per token"
            assert all(math.isnan(s) != c for s, c in zip(row, ctx, strict=True))

    @property
    def method(self) -> str:
        return self.scores.method

    @property
    def relative_error(self) -> float | None:
        """The largest relative completeness error over the rows (None when undefined)."""
        errors = [c.relative_error for c in self.scores.completeness or ()]
        known = [e for e in errors if e is not None]
        return max(known) if known else None


@dataclass(frozen=True)
class AttributionMatrix(Displayable):
    """Every method's scores for every explained output over one input; in a notebook, one
    heatmap line per output (`show(level="word", methods=..., rows=...)`)."""

    display_as: ClassVar[str] = "matrix"

    model: str
    kind: str  # "causal" | "masked"
    tokens: tuple[Token, ...]
    outputs: tuple[OutputRow, ...]
    methods: tuple[MethodScores, ...]
    context: tuple[tuple[bool, ...], ...]  # (R, T): can the row depend on the token?
    held: tuple[int, ...] = ()  # tokens IG holds at their real embedding (score 0)
    timings: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    segmentations: tuple[Segmentation, ...] = ()  # word / sentence / span views of the tokens

    def __post_init__(self) -> None:
        r, t = len(self.outputs), len(self.tokens)
        for seg in self.segmentations:
            assert seg.n_tokens == t, f"{seg.level} segmentation of {seg.n_tokens} tokens"
        assert len(self.context) == r and all(len(c) == t for c in self.context)
        assert len({m.method for m in self.methods}) == len(self.methods), "methods repeat"
        for m in self.methods:
            assert len(m.scores) == r, f"{m.method}: {len(m.scores)} rows for {r} outputs"
            assert all(len(row) == t for row in m.scores), f"{m.method}: not {t} tokens"
            for row, ctx in zip(m.scores, self.context, strict=True):
                assert all(math.isnan(s) != c for s, c in zip(row, ctx, strict=True)), (
                    f"{m.method}: NaN exactly where a token is out of context"
                )

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.outputs), len(self.tokens)

    def method(self, name: str) -> MethodScores:
        for m in self.methods:
            if m.method == name:
                return m
        raise KeyError(name)

    def scores(self, method: str):
        """The (R, T) scores of `method` as a numpy array (NaN out of context)."""
        import numpy as np

        return np.array(self.method(method).scores, dtype=float)

    def segmentation(self, level: str) -> Segmentation:
        for seg in self.segmentations:
            if seg.level == level:
                return seg
        known = ", ".join(["token", *(s.level for s in self.segmentations)])
        raise KeyError(f"No {level} segmentation here (have: {known}).")

    def segment_scores(self, method: str, level: str = "word"):
        """(R, S) scores per segment: signed summed, unsigned as the L2 norm (segments.RULES)."""
        m = self.method(method)
        if level == "token":
            return self.scores(method)
        return aggregate(self.scores(method), self.segmentation(level), m.signed)

    def to_dataframe(self, level: str = "token"):
        """Long format: one row per (output, token or segment), one column per method."""
        import pandas as pd

        if level == "token":
            units = [(t.label, i) for i, t in enumerate(self.tokens)]
        else:
            units = [(s.label, k) for k, s in enumerate(self.segmentation(level).segments)]
        values = {m.method: self.segment_scores(m.method, level) for m in self.methods}
        records = []
        for r, out in enumerate(self.outputs):
            for label, i in units:
                rec = {"row": r, "output": out.label, level: label, "index": i}
                rec.update({name: float(v[r][i]) for name, v in values.items()})
                records.append(rec)
        return pd.DataFrame(records)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for m in data["methods"]:  # JSON has no NaN: out-of-context cells become null
            m["scores"] = [[None if math.isnan(s) else s for s in row] for row in m["scores"]]
        return data

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AttributionMatrix:
        data = dict(data)
        data["tokens"] = tuple(Token(**t) for t in data["tokens"])
        data["outputs"] = tuple(_output(o) for o in data["outputs"])
        data["methods"] = tuple(_method_scores(m) for m in data["methods"])
        data["context"] = tuple(tuple(c) for c in data["context"])
        data["held"] = tuple(data.get("held", ()))
        data["notes"] = tuple(data.get("notes", ()))
        data["segmentations"] = tuple(
            segmentation_from_dict(s) for s in data.get("segmentations", ())
        )
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> AttributionMatrix:
        return cls.from_dict(json.loads(text))


def _output(o: dict[str, Any]) -> OutputRow:
    o = dict(o)
    o["target_ids"] = tuple(o["target_ids"])
    o["foil_ids"] = tuple(o["foil_ids"]) if o.get("foil_ids") is not None else None
    return OutputRow(**o)


def _method_scores(m: dict[str, Any]) -> MethodScores:
    m = dict(m)
    m["scores"] = tuple(tuple(float("nan") if s is None else s for s in row) for row in m["scores"])
    m["params"] = params_from_dict(m["method"], m.get("params"))
    if m.get("completeness") is not None:
        m["completeness"] = tuple(Completeness(**c) for c in m["completeness"])
    if m.get("faithfulness") is not None:
        m["faithfulness"] = tuple(
            None if f is None else Faithfulness.from_dict(f) for f in m["faithfulness"]
        )
    return MethodScores(**m)
