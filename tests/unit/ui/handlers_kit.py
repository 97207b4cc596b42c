"""What the page-event tests share: fast options, a hostile string, a check that an outcome is a
result."""

from __future__ import annotations

from whyword.ui.handlers import Outcome

FAST = {"methods": ("saliency", "integrated_gradients"), "steps": 4, "max_steps": 0, "k": 5}
XSS = "<img src=x onerror=alert(1)>"


def ok(outcome: Outcome) -> Outcome:
    assert outcome.ok, outcome.error
    return outcome
