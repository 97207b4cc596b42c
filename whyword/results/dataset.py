"""A dataset run's rows, results and summary (`whyword.explain_dataset`, `whyword run`).

Torch-free, so the summary's HTML (whyword/render/dataset.py) never touches a model.

- `DatasetRow`: one input row as read (id, text, optional target and foil), or the one
  sentence saying why it cannot be explained (`problem`: an empty text, a missing column).
- `RowResult`: one record of the results file per input row **and method** (tidy: with one
  method, one record per input row), `status` "ok" or "failed" with the failure's `reason`.
  The file's columns are `RowResult`'s fields, in order (`COLUMNS`; docs/guide/datasets.md).
- `Summary`: per method the mean deletion / insertion areas with 95 % bootstrap intervals
  (whyword/results/stats.py), the tokens most often ranked first, and the failed rows.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from whyword.results.display import Displayable
from whyword.results.stats import bootstrap_mean

STATUSES = ("ok", "failed")


@dataclass(frozen=True)
class DatasetRow:
    """One input row. `problem` set: the row is recorded as failed with it as the reason."""

    id: str
    text: str
    target: str | None = None
    foil: str | None = None
    problem: str | None = None

    def __post_init__(self) -> None:
        assert isinstance(self.id, str) and self.id, "a row's id is a non-empty string"
        assert isinstance(self.text, str)
        assert self.problem is None or self.problem.strip(), "a problem is a sentence"


@dataclass(frozen=True)
class RowResult:
    """One record of the results file: one input row's attribution by one method."""

    id: str
    text: str
    target: str | None  # the explained target's exact text (the top-1 when none was given)
    foil: str | None
    model: str
    method: str
    tokens: tuple[str, ...]  # each token's exact text, leading space included
    scores: tuple[float, ...]  # one per token (0 where a token is held or not in context)
    objective: str | None  # the attributed scalar's formula, e.g. "log p(target)"
    value: float | None  # that scalar at the real input
    deletion: float | None  # faithfulness areas (None unless computed): lower is better
    insertion: float | None  # higher is better
    random_deletion: float | None  # a random order's areas, the same baseline both ways
    random_insertion: float | None
    status: str  # "ok" | "failed"
    reason: str | None  # a failed row's one-sentence reason

    def __post_init__(self) -> None:
        assert self.status in STATUSES, self.status
        assert (self.status == "failed") == (self.reason is not None), "reason iff failed"
        assert len(self.tokens) == len(self.scores), "one score per token"
        if self.status == "ok":
            assert self.tokens and self.value is not None and self.objective is not None
        assert (self.deletion is None) == (self.insertion is None)

    def to_record(self) -> dict[str, Any]:
        """The file's row: plain JSON types, lists for the sequences."""
        record = asdict(self)
        record["tokens"], record["scores"] = list(self.tokens), list(self.scores)
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RowResult:
        """A row read back from the file (JSONL or Parquet)."""
        values = {f.name: record.get(f.name) for f in fields(cls)}
        values["id"] = str(values["id"])
        values["tokens"] = tuple(values["tokens"] or ())
        values["scores"] = tuple(float(s) for s in values["scores"] or ())
        return cls(**values)

    @classmethod
    def failed(cls, row: DatasetRow, model: str, method: str, reason: str) -> RowResult:
        return cls(
            row.id, row.text, row.target, row.foil, model, method, (), (), None, None,
            None, None, None, None, "failed", reason,
        )  # fmt: skip


COLUMNS = tuple(f.name for f in fields(RowResult))


@dataclass(frozen=True)
class MethodSummary:
    """One method over a run: (mean, low, high) areas over the rows that computed them."""

    method: str
    rows: int  # rows this method explained ("ok")
    deletion: tuple[float, float, float] | None  # mean, 95 % bootstrap interval
    insertion: tuple[float, float, float] | None
    random_deletion: float | None  # mean of the random order's areas
    random_insertion: float | None
    curves: int  # rows with faithfulness areas
    top_tokens: tuple[tuple[str, int], ...]  # (token text, rows where it scored highest)


@dataclass(frozen=True)
class Summary(Displayable):
    """What a run found, per method, and which rows failed and why. In a notebook it draws
    itself as the report's HTML (`show(top=5)`: how many first-ranked tokens per method)."""

    display_as: ClassVar[str] = "dataset_summary"

    model: str
    rows: int  # distinct input rows
    ok: int  # input rows every method explained
    methods: tuple[MethodSummary, ...]
    failed: tuple[tuple[str, str], ...]  # (id, reason), one per failed input row

    def __post_init__(self) -> None:
        assert self.ok + len(self.failed) <= self.rows


def top_token(result: RowResult) -> str:
    """The token a row's scores rank first: the highest score (the first such token on a
    tie). Signed methods rank what pushes hardest towards the target; saliency, the largest."""
    best = max(range(len(result.scores)), key=lambda i: (result.scores[i], -i))
    return result.tokens[best]


def summarize(results: list[RowResult], top: int = 10, seed: int = 0) -> Summary:
    """The summary of a run's records (as written, in any order)."""
    methods: dict[str, list[RowResult]] = {}
    for r in results:
        methods.setdefault(r.method, []).append(r)
    failed: dict[str, str] = {}
    for r in results:
        if r.status == "failed" and r.id not in failed:
            failed[r.id] = r.reason or ""
    ids = {r.id for r in results}
    return Summary(
        model=results[0].model if results else "",
        rows=len(ids),
        ok=len(ids) - len(failed),
        methods=tuple(_method(name, rs, top, seed) for name, rs in methods.items()),
        failed=tuple(failed.items()),
    )


def _method(name: str, results: list[RowResult], top: int, seed: int) -> MethodSummary:
    ok = [r for r in results if r.status == "ok"]
    rated = [r for r in ok if r.deletion is not None and not math.isnan(r.deletion)]
    firsts = Counter(top_token(r) for r in ok)
    return MethodSummary(
        method=name,
        rows=len(ok),
        deletion=bootstrap_mean([r.deletion for r in rated], seed=seed) if rated else None,
        insertion=bootstrap_mean([r.insertion for r in rated], seed=seed) if rated else None,
        random_deletion=_mean([r.random_deletion for r in rated]),
        random_insertion=_mean([r.random_insertion for r in rated]),
        curves=len(rated),
        top_tokens=tuple(firsts.most_common(top)),
    )


def _mean(values: list[float | None]) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None
