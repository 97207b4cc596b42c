"""What one page event returns (`Outcome`), and the per-session state and progress types."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from whyword.results.explanation import Explanation
from whyword.results.matrix import Stage
from whyword.ui.share import Query

State = dict[str, Any]  # {"query": Query dict, "explanation": Explanation dict, "targets": {...}}


@dataclass(frozen=True)
class Tracker:
    """What a running handler reports to: the progress bar (fraction, description), and the
    stages of a method that refines (IG's scores so far, `ExplainOptions.on_stage`)."""

    bar: Callable[[float, str], None] | None = None
    stage: Callable[[Stage], None] | None = None
    # an early result the whole one replaces: it skips the faithfulness curves, which the
    # whole result computes for every method (a no-grad pass of ≈ 6(T−1) rows for one method
    # and its random baseline, against the one forward+backward of the heatmap itself)
    preview: bool = False

    def __call__(self, fraction: float, desc: str) -> None:
        if self.bar is not None:
            self.bar(fraction, desc)


Progress = Tracker | Callable[[float, str], None] | None


@dataclass(frozen=True)
class Outcome:
    """The result of one event: the query as explained, and its explanation or a message."""

    query: Query
    explanation: Explanation | None = None
    error: str | None = None
    seconds: float = 0.0  # wall-clock time of the whole event (model load included)
    reused: bool = False  # the predictions came from the previous result (a retarget)
    pending: tuple[str, ...] = ()  # methods still running: this is an early, partial result
    stage: Stage | None = None  # the refining method's scores so far shown in `explanation`

    def __post_init__(self) -> None:
        assert self.stage is None or self.stage.method in self.pending or self.stage.final, (
            "a stage still refining is a partial result"
        )

    @property
    def ok(self) -> bool:
        return self.explanation is not None and self.error is None
