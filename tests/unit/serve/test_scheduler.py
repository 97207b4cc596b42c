"""The scheduler in front of the models: concurrent users share calls, get what they get
alone, a heavy request takes its own lane, and a full heavy lane answers with a sentence."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.tolerances import SAME_ARITHMETIC, TINY_FP32, assert_close
from whyword.engine.cache import RESULTS
from whyword.errors import InputError
from whyword.runtime.options import ExplainOptions
from whyword.serve.scheduler import Scheduler, cost
from whyword.tasks.explain import explain

METHODS = ("saliency", "input_x_gradient")
TEXTS = ["The capital of France is", "The keys to the cabinet are on the", "I plan to go"] * 4


@pytest.mark.numerics
def test_concurrent_requests_share_calls_and_equal_alone(tiny_gpt2):
    opts = ExplainOptions(faithfulness=True, k=5)
    sched = Scheduler()
    RESULTS.clear()
    with ThreadPoolExecutor(12) as pool:
        got = list(
            pool.map(
                lambda t: sched.explain(t + " ", methods=METHODS, model=tiny_gpt2, options=opts),
                TEXTS,
            )
        )
    assert max(sched.batch_sizes) <= 16 and sum(sched.batch_sizes) <= len(TEXTS)
    for text, e in zip(TEXTS, got, strict=True):
        RESULTS.clear()
        alone = explain(text + " ", methods=METHODS, model=tiny_gpt2, options=opts)
        for a, b in zip(alone.attributions, e.attributions, strict=True):
            assert_close(b.scores, a.scores, TINY_FP32, a.method)  # batched vs alone
    preds = list(ThreadPoolExecutor(6).map(lambda t: sched.predictions(tiny_gpt2, t, 3), TEXTS))
    assert all(len(p[0].candidates) == 3 for p in preds)


@pytest.mark.numerics
def test_heavy_requests_take_their_own_lane(tiny_gpt2):
    opts = ExplainOptions(n_steps=8, adaptive=False, faithfulness=False)
    sched = Scheduler(heavy_cost=1)  # every IG request counts as heavy here
    RESULTS.clear()
    got = sched.explain(
        "The capital of France is", methods="integrated_gradients", model=tiny_gpt2, options=opts
    )
    RESULTS.clear()
    alone = explain(
        "The capital of France is", methods="integrated_gradients", model=tiny_gpt2, options=opts
    )
    assert_close(got.attributions[0].scores, alone.attributions[0].scores, SAME_ARITHMETIC)
    assert sched._copies.get(tiny_gpt2.model) is not None  # ran on the heavy lane's copy


def test_a_full_heavy_lane_is_one_sentence(tiny_gpt2):
    sched = Scheduler(heavy_cost=1, heavy_waiting=0)
    RESULTS.clear()
    with pytest.raises(InputError, match="long explanations"):
        sched.explain("The capital", methods="integrated_gradients", model=tiny_gpt2)


def test_cost_counts_the_ig_cap():
    opts = ExplainOptions(n_steps=32, adaptive=True, max_steps=128)
    assert cost(10, ("saliency", "integrated_gradients"), opts) == 10 * (1 + 128)


def test_buckets_limit_padding_and_size():
    from whyword.serve.scheduler import _Job, buckets

    jobs = [_Job(None, None, "g", tokens=t) for t in (30, 5, 6, 8, 12, 40, 7)]
    got = [[j.tokens for j in b] for b in buckets(jobs, 3)]
    assert got == [[5, 6, 7], [8, 12], [30, 40]]


def test_a_call_runs_in_the_lane_its_work_picks_and_passes_errors_on(tiny_gpt2):
    sched = Scheduler(heavy_cost=100)
    assert sched.call(tiny_gpt2, 100, lambda lm: lm.model) is tiny_gpt2.model  # light: itself
    copy = sched.call(tiny_gpt2, 101, lambda lm: lm)  # heavy: the lane's own copy
    assert copy.model is not tiny_gpt2.model and copy.name == tiny_gpt2.name

    def fails(lm):
        raise InputError("One clear sentence.")

    with pytest.raises(InputError, match="One clear sentence"):
        sched.call(tiny_gpt2, 1, fails)
    assert sched.call(tiny_gpt2, 1, lambda lm: 7) == 7  # the lane keeps serving


def test_an_idle_lane_hands_freed_memory_back(tiny_gpt2, monkeypatch):
    """After a turn with nothing left waiting, the lane trims the heap (glibc malloc_trim);
    the call itself is safe anywhere (a no-op without glibc)."""
    import threading

    from whyword.serve import scheduler as sched

    sched.release_freed_memory()
    trimmed = threading.Event()
    monkeypatch.setattr(sched, "release_freed_memory", trimmed.set)
    RESULTS.clear()
    Scheduler().explain("The capital of France is", methods="saliency", model=tiny_gpt2)
    assert trimmed.wait(10)
