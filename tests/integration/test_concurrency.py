"""Many users at once: the launched app, hit by 16 gradio_client clients together.

Every concurrent request gets exactly the scores it gets alone, none fails, the app never runs
more explanations at once than its concurrency limit, and bad requests get their message
without stopping the server.
"""

from __future__ import annotations

import functools
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import torch

pytest.importorskip("gradio")
pytest.importorskip("gradio_client")

from gradio_client import Client  # noqa: E402

CLIENTS = 16
STEPS = 8  # IG gradient evaluations per request (no refinement): small and exact to compare


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Peak:
    """Counts how many calls of a function run at the same time."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self.lock = threading.Lock()

    def wrap(self, fn):
        @functools.wraps(fn)  # gradio reads the endpoint's signature from it
        def counted(*args: Any, **kwargs: Any):
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
            try:
                return fn(*args, **kwargs)
            finally:
                with self.lock:
                    self.now -= 1

        return counted


@pytest.fixture(scope="module")
def peak() -> Peak:
    return Peak()


@pytest.fixture(scope="module")
def app(tiny_paths, peak) -> Iterator[str]:
    """The real page launched in this process on a free port (local mode); its URL."""
    mp = pytest.MonkeyPatch()
    mp.delenv("WHYWORD_HOSTED", raising=False)
    mp.delenv("SPACE_ID", raising=False)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a shared 2-core machine: spinning OpenMP threads slow all down
    from whyword.ui import api
    from whyword.ui.app import build_demo

    mp.setattr(api, "api_explain", peak.wrap(api.api_explain))
    demo = build_demo()
    port = free_port()
    demo.launch(
        prevent_thread_lock=True,
        server_name="127.0.0.1",
        server_port=port,
        quiet=True,
        show_error=True,
    )
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
        mp.undo()
        torch.set_num_threads(threads)


def requests(tiny_paths: dict[str, str]) -> list[dict[str, Any]]:
    """16 different requests: three models (two on the real default), targets, foils, methods."""
    gpt2, bert = tiny_paths["gpt2"], tiny_paths["bert"]
    texts = [
        "The capital of France is",
        "This weekend I plan to go to the",
        "To be or not to be, that is the",
        "Scientists discovered a herd of",
    ]
    out: list[dict[str, Any]] = []
    for i, text in enumerate(texts):
        out.append({"text": text, "model": "default" if i < 2 else gpt2})
        out.append({"text": text, "model": gpt2, "target": "id:7", "foil": "id:9"})
        out.append({"text": text, "model": gpt2, "methods": "integrated_gradients,occlusion"})
        masked = " ".join(text.lower().split()[:-1]) + " [MASK] ."
        out.append({"text": masked, "model": bert, "k": 3 + i})
    return [{"methods": "saliency,integrated_gradients", "steps": STEPS, "k": 5, **r} for r in out]


def explain(client: Client, request: dict[str, Any]) -> dict:
    data, _html = client.predict(**request, api_name="/explain")
    return data


def scores(data: dict) -> dict[str, list[float]]:
    return {a["method"]: a["scores"] for a in data["attributions"]}


@pytest.mark.slow  # two of the sixteen requests run on the real default model
def test_sixteen_clients_get_the_sequential_scores(app, tiny_paths, peak) -> None:
    reqs = requests(tiny_paths)
    assert len(reqs) == CLIENTS
    one = Client(app, verbose=False)
    start = time.perf_counter()
    alone = [explain(one, r) for r in reqs]
    sequential = time.perf_counter() - start

    clients = [Client(app, verbose=False) for _ in range(CLIENTS)]
    barrier = threading.Barrier(CLIENTS)

    def fire(i: int) -> dict:
        barrier.wait()  # all 16 leave together
        return explain(clients[i], reqs[i])

    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        together = list(pool.map(fire, range(CLIENTS)))
    concurrent = time.perf_counter() - start

    from whyword.ui.app import CONCURRENCY

    print(
        f"\n{CLIENTS} requests: one by one {sequential:.1f} s, all at once {concurrent:.1f} s; "
        f"at most {peak.most} explanations ran at the same time (limit {CONCURRENCY})"
    )
    for request, a, b in zip(reqs, alone, together, strict=True):
        assert scores(b) == scores(a), request  # exactly, not approximately
        assert (b["target"], b["foil"], b["value"]) == (a["target"], a["foil"], a["value"])
        assert b["predictions"] == a["predictions"]
    assert 1 < peak.most <= CONCURRENCY  # the queue really ran requests side by side, no more


def test_queue_settings_are_deliberate() -> None:
    from whyword.serve.scheduler import MAX_BATCH
    from whyword.ui.app import CONCURRENCY, QUEUE_SIZE

    # the slots wait in the scheduler, which owns the CPU (two lanes): enough of them to fill
    # a shared call, no more than one call takes
    assert 2 <= CONCURRENCY <= MAX_BATCH
    assert QUEUE_SIZE >= CLIENTS * 2  # a class of 30 fits in the queue instead of "queue full"


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"text": ""}, "The text is empty"),
        ({"text": "   \x00 "}, "The text is empty"),
        ({"k": 10**6}, "this server allows at most"),
        ({"steps": 0}, "IG steps must be at least 1"),
        ({"model": "nobody/no-such-model-xyz"}, "Could not load model"),
        ({"target": "id:99999999"}, "out of range"),
        ({"methods": "magic"}, "Unknown method"),
        ({"text": "The capital [MASK] a [MASK]"}, "one [MASK] at a time"),
    ],
)
def test_bad_requests_get_their_message_and_the_app_keeps_serving(
    app, tiny_paths, request_: dict, message: str
) -> None:
    from gradio_client.exceptions import AppError

    client = Client(app, verbose=False)
    call = {"text": "The capital of France is", "model": tiny_paths["gpt2"], "steps": STEPS}
    with pytest.raises(AppError) as caught:
        explain(client, {**call, **request_})
    assert message in str(caught.value) and "Traceback" not in str(caught.value)
    assert scores(explain(client, call))  # still serving


def test_predict_endpoint_serves_many_clients(app, tiny_paths) -> None:
    call = {"text": "The capital of France is", "model": tiny_paths["gpt2"], "k": 5}
    one = Client(app, verbose=False).predict(**call, api_name="/predict")
    with ThreadPoolExecutor(8) as pool:
        rows = list(
            pool.map(
                lambda _: Client(app, verbose=False).predict(**call, api_name="/predict"), range(8)
            )
        )
    assert all(r == one for r in rows) and len(one) == 5
