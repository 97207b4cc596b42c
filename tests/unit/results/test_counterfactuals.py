"""The counterfactual results check themselves: a log-probability is ≤ 0, one edit per position,
HotFlip edits one token, a reduction never keeps a step that changed the top-1, a flip result
never runs more than its budget nor reports an edit that does not flip."""

from __future__ import annotations

import dataclasses

import pytest

from whyword.results.counterfactuals import (
    Counterfactual,
    MinimalFlip,
    Reading,
    Reduction,
    ReductionStep,
    Subject,
    Substitution,
)
from whyword.text.tokens import Token

TOKENS = tuple(Token(i, f" w{i}", f"␣w{i}") for i in range(4))
READ = Reading(-0.5, None, 7, "␣Paris")
SUBJECT = Subject(
    "m", "causal", "w0 w1 w2 w3", TOKENS, 3, "␣Paris", (7,), None, None, "log p(target)", READ
)


def sub(position: int, new: int = 9) -> Substitution:
    return Substitution(position, position, f"␣w{position}", new, "␣x", -1.0)


def cf(*subs: Substitution, top: int = 8) -> Counterfactual:
    reading = Reading(-3.0, None, top, "␣x")
    return Counterfactual(subs, "t", reading, -2.5, None, flipped=top != 7)


def test_a_reading_is_a_log_probability():
    with pytest.raises(AssertionError):
        Reading(0.3, None, 1, "a")
    assert Reading(-1.0, -3.0, 1, "a").contrast == 2.0 and READ.contrast is None


def test_a_counterfactual_edits_each_position_once_in_order():
    assert cf(sub(0), sub(2)).estimate == -2.0
    with pytest.raises(AssertionError):
        cf(sub(2), sub(0))
    with pytest.raises(AssertionError):
        cf(sub(1), sub(1))
    with pytest.raises(AssertionError):
        Substitution(0, 5, "a", 5, "a", 0.0)  # no change is no substitution


def test_a_reduction_step_keeps_the_top1():
    good = ReductionStep(1, "␣w1", 0.01, (0, 2, 3), "w0 w2 w3", READ)
    Reduction(SUBJECT, "saliency", True, (good,), "stopped.", 1, 0.1)
    bad = dataclasses.replace(good, reading=Reading(-2.0, None, 8, "␣x"))
    with pytest.raises(AssertionError):
        Reduction(SUBJECT, "saliency", True, (bad,), "stopped.", 1, 0.1)


def test_a_flip_stays_within_its_budget_and_really_flips():
    found = cf(sub(1))
    flip = MinimalFlip(SUBJECT, found, 10, 10, 3, 4, (10,), 0.1)
    assert flip.message.startswith("1 substitution changes the top-1")
    with pytest.raises(AssertionError):
        MinimalFlip(SUBJECT, found, 9, 10, 3, 4, (10,), 0.1)  # over the budget
    with pytest.raises(AssertionError):
        MinimalFlip(SUBJECT, cf(sub(1), top=7), 10, 10, 3, 4, (10,), 0.1)  # does not flip
    none = MinimalFlip(SUBJECT, None, 10, 10, 3, 4, (4, 6), 0.1)
    assert none.message.startswith("No flip found within the budget (10 of 10")
