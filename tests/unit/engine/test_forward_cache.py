"""Forward work a retarget reuses (whyword/runtime/forward_cache.py): the same answers, fewer rows."""

from __future__ import annotations

import pytest

import whyword as ww
from tests.tiny import Forwards
from tests.tolerances import LOG_PROB, TINY_FP32, assert_close, for_scores
from whyword.engine.cache import RESULTS
from whyword.runtime.forward_cache import LOGITS

TEXT = "The capital of France is Paris. The capital of Italy is"
METHODS = ("saliency", "occlusion")


def _explain(lm, target, foil=None):
    RESULTS.clear()  # the result cache would answer a repeat whole; here only forwards count
    return ww.explain(TEXT, target, foil, METHODS, model=lm, faithfulness=True)


@pytest.mark.numerics
def test_a_retarget_and_a_foil_reuse_the_first_requests_forward_rows(tiny_gpt2, monkeypatch):
    monkeypatch.setenv("WHYWORD_CACHE_ENTRIES", "128")  # the tests run with the caches off
    LOGITS.clear()
    with Forwards(tiny_gpt2.model) as counter:
        first = _explain(tiny_gpt2, 3)
        rows_first = counter.rows
        second = _explain(tiny_gpt2, 5)
        rows_second = counter.rows - rows_first
        foil = _explain(tiny_gpt2, 3, 5)
    assert LOGITS.hits > 0 and rows_second < rows_first  # occlusion, random orders: reused
    monkeypatch.setenv("WHYWORD_CACHE_ENTRIES", "0")  # no cache at all: the plain computation
    LOGITS.clear()
    for got, target, foil_id in ((first, 3, None), (second, 5, None), (foil, 3, 5)):
        want = _explain(tiny_gpt2, target, foil_id)
        assert_close(got.value, want.value, LOG_PROB)  # cached rows vs computed ones
        for a, b in zip(want.attributions, got.attributions, strict=True):
            assert_close(b.scores, a.scores, for_scores(a.method, TINY_FP32), a.method)
            for field in ("deletion", "insertion", "random_deletion"):
                assert_close(getattr(b, field), getattr(a, field), TINY_FP32, field)
    assert len(LOGITS) == 0  # off with the result cache


def test_gradient_calls_are_never_cached(tiny_gpt2, monkeypatch):
    monkeypatch.setenv("WHYWORD_CACHE_ENTRIES", "128")
    LOGITS.clear()
    RESULTS.clear()
    ww.explain(TEXT, 3, methods="saliency", model=tiny_gpt2)
    assert len(LOGITS) == 0


def test_the_cache_is_bounded_in_bytes(tiny_gpt2, monkeypatch):
    monkeypatch.setenv("WHYWORD_CACHE_ENTRIES", "128")
    LOGITS.clear()
    row_bytes = 4 * tiny_gpt2.vocab_size
    monkeypatch.setenv("WHYWORD_FORWARD_MB", str(3.5 * row_bytes / 2**20))
    _explain(tiny_gpt2, 3)
    assert 1 <= len(LOGITS) <= 3


@pytest.mark.numerics
def test_a_shared_call_runs_each_distinct_sequence_once(tiny_gpt2, monkeypatch):
    """Occluding a padded position of the shorter request leaves its row as it was: with the
    cache's keys that row runs once, and every answer is the one computed without them."""
    from whyword.runtime.options import ExplainOptions
    from whyword.tasks.explain import ExplainRequest, explain_many

    reqs = [
        ExplainRequest("The capital of France is Paris. The capital of Italy is"),
        ExplainRequest("I plan to go"),
    ]
    opts = ExplainOptions(faithfulness=False)
    got = {}
    for entries in ("128", "0"):
        monkeypatch.setenv("WHYWORD_CACHE_ENTRIES", entries)
        LOGITS.clear()
        with Forwards(tiny_gpt2.model) as counter:
            got[entries] = explain_many(tiny_gpt2, reqs, ("occlusion",), opts)
        got[entries + " rows"] = counter.rows
    assert got["128 rows"] < got["0 rows"]
    for a, b in zip(got["0"], got["128"], strict=True):
        assert_close(
            b.attributions[0].scores, a.attributions[0].scores, for_scores("occlusion", TINY_FP32)
        )
        assert_close(b.value, a.value, LOG_PROB)


def test_rows_of_very_different_lengths_go_in_separate_calls():
    from whyword.engine.sequences import MIN_SPLIT_ROWS, _length_groups

    n = MIN_SPLIT_ROWS
    lengths = [20] * n + [10] * n + [19] * 3 + [4] * 2  # long, short, a few near each
    groups = _length_groups(list(range(len(lengths))), lengths)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))  # each once
    assert [sorted({lengths[i] for i in g}) for g in groups] == [[19, 20], [4, 10]]
    assert _length_groups([0, 1, 2], [30, 5, 5]) == [[0, 1, 2]]  # too few rows to split
    assert _length_groups([], []) == []
