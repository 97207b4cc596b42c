"""The Ray Serve backend on loopback: a local Ray (2 CPUs), two replicas of a tiny model.

Started once per module (~30–40 s on 2 free cores; 150 s when the machine was loaded 7×), with
a hard deadline; skipped when the `serve` extra is not
installed. Concurrent requests through the HTTP client get what the same requests get in
process, batches stay within the maximum, and a bad request is one sentence.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("ray.serve")

from tests.tolerances import TINY_FP32, assert_close
from whyword.engine.cache import RESULTS  # noqa: E402
from whyword.engine.predict import predictions  # noqa: E402
from whyword.errors import WhyWordError  # noqa: E402
from whyword.runtime.options import ExplainOptions  # noqa: E402
from whyword.tasks.explain import explain  # noqa: E402

METHODS = ("saliency", "input_x_gradient")
TEXTS = ["The capital of France is", "The keys to the cabinet are on the", "I plan to go"]


@pytest.fixture(scope="module")
def backend(tiny_paths):
    for name, value in {
        "RAY_AUTH_MODE": "disabled",
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_SERVE_QUEUE_LENGTH_RESPONSE_DEADLINE_S": "1",
    }.items():
        os.environ.setdefault(name, value)
    from whyword.serve import command
    from whyword.serve.client import RayBackend

    port = command.free_port()
    url = command.start(replicas=2, port=port, model=tiny_paths["gpt2"], cpus=0.5, deadline=90)
    try:
        yield RayBackend(url)
    finally:
        command.stop()


@pytest.mark.numerics
def test_concurrent_requests_equal_the_same_in_process(backend, tiny_gpt2):
    opts = ExplainOptions(faithfulness=False, k=5)  # its batching: tests/unit/engine/test_batch.py
    asks = [
        (t, target, foil) for t in TEXTS for target, foil in ((None, None), (2, None), (None, 1))
    ]
    with ThreadPoolExecutor(len(asks)) as pool:
        got = list(
            pool.map(
                lambda a: backend.explain(a[0], a[1], a[2], METHODS, "default", options=opts), asks
            )
        )
    for (text, target, foil), remote in zip(asks, got, strict=True):
        RESULTS.clear()
        local = explain(text, target, foil, METHODS, model=tiny_gpt2, options=opts)
        assert (remote.target, remote.foil, remote.tokens) == (
            local.target,
            local.foil,
            local.tokens,
        )
        for a, b in zip(local.attributions, remote.attributions, strict=True):
            assert_close(b.scores, a.scores, TINY_FP32, a.method)  # batched vs alone
    sizes = backend.stats()["batch_sizes"]  # one replica's batches (the one that answered)
    assert sizes and max(sizes) <= 16


def test_predictions_and_a_bad_request(backend, tiny_gpt2):
    from whyword.models.encoding import encode

    remote = backend.predictions("default", TEXTS[0], 3)
    (local,) = predictions(tiny_gpt2, encode(tiny_gpt2, TEXTS[0]), 3)
    assert [c.token_id for c in remote[0].candidates] == [c.token_id for c in local.candidates]
    with pytest.raises(WhyWordError, match="text"):
        backend.explain("   ", methods=METHODS, model="default")
