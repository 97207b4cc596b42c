"""What the server's log says about a request that did not end in a result: a user's mistake is
one line (the sentence the user read), a real failure its whole traceback, so an operator who
searches the log for "Traceback" finds only what needs fixing. Used by every page event and API
endpoint (gradio itself is told not to print a traceback for the sentences it shows)."""

from __future__ import annotations

import logging

log = logging.getLogger("whyword.ui")


def user_mistake(where: str, error: BaseException) -> None:
    """One line at INFO: where it happened and the sentence the user was shown."""
    log.info("%s refused: %s", where, " ".join(str(error).split()))


def failure(where: str) -> None:
    """A real failure, with its traceback (call inside the `except` block)."""
    log.exception("%s failed", where)
