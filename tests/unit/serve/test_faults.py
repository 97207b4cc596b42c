"""A failure mid-batch fails only that batch: a method that runs out of memory (or raises a
RuntimeError) on one shared call gives each request of that call one sentence, the requests
computed beside it get their results, the failure is logged once, and the lanes go on serving."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import whyword as ww
from tests.tolerances import TINY_FP32, assert_close
from whyword.attr.problem import input_gradients
from whyword.engine.cache import RESULTS
from whyword.engine.predict import predictions
from whyword.errors import WhyWordError
from whyword.models.encoding import encode
from whyword.results.explanation import Explanation
from whyword.runtime.options import ExplainOptions
from whyword.serve import dispatch
from whyword.serve.scheduler import Scheduler
from whyword.tasks.explain import explain

OPTS = ExplainOptions(k=3, faithfulness=False)
FAILING = ["The capital of France is", "The keys to the cabinet", "I plan to go to the"]
BESIDE = ["The weather today is", "My favourite colour is", "She opened the door and"]


@pytest.fixture
def failing_method():
    """A user's method (saliency's gradient, L1) that raises `kind` on its first call only."""
    calls: list[int] = []
    kind: list[type[BaseException]] = []

    def run(problem, params):
        calls.append(problem.n_rows)
        if len(calls) == 1:
            raise kind[0]("injected failure")
        values, grads = input_gradients(problem)  # (R,), (R, T, H)
        return ww.attr.MethodOutput(grads.abs().sum(-1), values=values)  # (R, T)

    method = ww.register_method(
        "fault_injected", run, signed=False, shares_calls=True, reads_gradient=True
    )
    yield method.name, calls, kind
    ww.METHODS.pop(method.name)


def _outcome(fn):
    try:
        return fn()
    except WhyWordError as error:
        return error


@pytest.mark.parametrize(
    ("kind", "sentence"), [(MemoryError, dispatch.MEMORY), (RuntimeError, dispatch.FAILED)]
)
def test_a_failing_batch_fails_only_its_own_requests(
    kind, sentence, failing_method, tiny_gpt2, monkeypatch, caplog
):
    name, calls, kinds = failing_method
    kinds.append(kind)
    released: list[int] = []
    real_release = dispatch.release_freed_memory
    monkeypatch.setattr(
        dispatch, "release_freed_memory", lambda: (released.append(1), real_release())[1]
    )
    RESULTS.clear()
    sched = Scheduler()
    running, go = threading.Event(), threading.Event()

    def hold(lm):  # keeps the light lane busy until every request below waits in it
        running.set()
        go.wait(30)

    jobs = (
        [lambda t=t: sched.explain(t, methods=name, model=tiny_gpt2, options=OPTS) for t in FAILING]
        + [
            lambda t=t: sched.explain(t, methods="saliency", model=tiny_gpt2, options=OPTS)
            for t in BESIDE
        ]
        + [lambda t=t: sched.predictions(tiny_gpt2, t, 3) for t in BESIDE[:2]]
    )
    with caplog.at_level(logging.INFO, logger="whyword.serve"), ThreadPoolExecutor(10) as pool:
        blocker = pool.submit(sched.call, tiny_gpt2, 0, hold)
        assert running.wait(30)
        futures = [pool.submit(_outcome, job) for job in jobs]
        deadline = time.monotonic() + 30
        while sched._light.qsize() < len(jobs) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sched._light.qsize() == len(jobs)  # one turn of the lane takes them all
        go.set()
        blocker.result(30)
        got = [f.result(60) for f in futures]

    assert calls == [3]  # the three failing requests were one shared call
    failed, beside, predicted = got[:3], got[3:6], got[6:]
    assert all(isinstance(e, WhyWordError) and str(e) == sentence for e in failed)
    assert len({id(e) for e in failed}) == 3  # each caller raises its own exception
    for text, e in zip(BESIDE, beside, strict=True):
        assert isinstance(e, Explanation), e
        RESULTS.clear()
        alone = explain(text, methods="saliency", model=tiny_gpt2, options=OPTS)
        assert_close(e.attributions[0].scores, alone.attributions[0].scores, TINY_FP32, text)
    for text, p in zip(BESIDE[:2], predicted, strict=True):
        (alone,) = predictions(tiny_gpt2, encode(tiny_gpt2, text, None), 3)
        assert [c.token_id for c in p[0].candidates] == [c.token_id for c in alone.candidates]
        for c, a in zip(p[0].candidates, alone.candidates, strict=True):
            assert_close(c.log_prob, a.log_prob, TINY_FP32, c.label)  # shared pass vs alone

    records = [r for r in caplog.records if r.name == "whyword.serve"]
    assert len(records) == 1  # once for the batch, not once per request
    if kind is MemoryError:  # a load event: one line, and the freed memory goes back at once
        assert records[0].levelno == logging.WARNING and records[0].exc_info is None
        assert released == [1]
    else:  # a bug: its traceback, for the operator
        assert records[0].levelno == logging.ERROR and records[0].exc_info is not None
        assert "injected failure" in caplog.text and released == []

    after = sched.explain(FAILING[0], methods=name, model=tiny_gpt2, options=OPTS)
    assert isinstance(after, Explanation) and calls == [3, 1]  # the lane goes on serving
