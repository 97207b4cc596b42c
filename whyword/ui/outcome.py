"""What one page event returns (`Outcome`), and the per-session state and progress types."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from whyword.explanation import Explanation
from whyword.ui.share import Query

Progress = Callable[[float, str], None] | None
State = dict[str, Any]  # {"query": Query dict, "explanation": Explanation dict, "targets": {...}}


@dataclass(frozen=True)
class Outcome:
    """The result of one event: the query as explained, and its explanation or a message."""

    query: Query
    explanation: Explanation | None = None
    error: str | None = None
    seconds: float = 0.0  # wall-clock time of the whole event (model load included)
    reused: bool = False  # the predictions came from the previous result (a retarget)
    pending: tuple[str, ...] = ()  # methods still running: this is an early, partial result

    @property
    def ok(self) -> bool:
        return self.explanation is not None and self.error is None
