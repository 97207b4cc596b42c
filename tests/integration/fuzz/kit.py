"""What every fuzz case must end in, and the log it may leave."""

from __future__ import annotations

import json
import logging
from typing import Any

from hypothesis import HealthCheck, Phase, settings

from whyword.errors import ECHO, WhyWordError

# A fixed seed and a bounded number of cases: the fast suite stays fast and repeatable.
FAST = settings(
    derandomize=True,
    phases=(Phase.explicit, Phase.generate),  # a failure is reported as found, not shrunk (slow)
    database=None,  # nothing written into the worktree
    deadline=None,  # the first case of a route loads its model
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
GENERIC = ("Something went wrong", "went wrong on the server")


def answer(call, *args: Any, **kwargs: Any) -> Any:
    """The route's result (JSON-able), or the WhyWordError it raised, checked to be one clear
    sentence that quotes at most ECHO characters of what was sent. Any other exception fails."""
    try:
        result = call(*args, **kwargs)
    except WhyWordError as error:
        assert_sentence(str(error), [*args, *kwargs.values(), *kwargs])
        return error
    json.dumps(result, allow_nan=True)  # what gradio sends back
    return result


def assert_sentence(message: str, sent: list[Any]) -> None:
    assert message and "\n" not in message and len(message) < 600, message
    assert "Traceback" not in message and 'File "' not in message, message
    assert not any(g in message for g in GENERIC), f"a bug answered generically: {message}"
    assert "\x00" not in message and not any(0xD800 <= ord(c) <= 0xDFFF for c in message), message
    for value in sent:
        if isinstance(value, str) and len(value) > ECHO + 1:
            head = value[:2000]
            windows = {head[i : i + ECHO + 1] for i in range(len(head) - ECHO)}
            assert not any(w in message for w in windows), f"echoes > {ECHO} characters: {message}"


class Records(logging.Handler):
    """The log records of the "whyword" loggers while a fuzz test runs."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def tracebacks(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.exc_info]

    def mistakes(self) -> list[str]:
        return [r.getMessage() for r in self.records if "refused:" in r.getMessage()]
