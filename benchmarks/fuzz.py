"""A longer fuzz of every API route than the fast suite's (tests/integration/fuzz/): the same
Hypothesis strategies, many more cases, each failure counted and listed instead of stopping.

In process (the default) it calls whyword.ui.api on tiny random models built in a temporary
folder, with a tiny retriever as the Evidence route's; `--url` sends the cases to a running app
through gradio_client instead (values JSON cannot carry, such as NaN or bytes, are counted as
not sendable, and arguments gradio_client itself refuses as refused by the client), where
`--model` is the model the usual cases name; the server's log then holds the one-line
mistakes, and `grep -c Traceback` on it should say 0.

    python benchmarks/fuzz.py --cases 500                    # every route, 500 cases each
    python benchmarks/fuzz.py --routes explain,evidence --cases 2000 --seed 7
    python benchmarks/fuzz.py --url http://127.0.0.1:7860/ --model distilgpt2 --cases 200

A failure is any answer that is not a result or one WhyWord sentence quoting at most 60
characters of what was sent (tests/integration/fuzz/kit.py), or a traceback in the log.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WHYWORD_CACHE_ENTRIES", "0")

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.integration.fuzz import strategies as s  # noqa: E402
from tests.integration.fuzz.kit import Records, answer, assert_sentence  # noqa: E402

ROUTES = (
    "explain",
    "predict",
    "positions",
    "generate",
    "evidence",
    "layers",
    "attention",
    "counterfactuals",
)


def local_caller(folder: Path):
    """(route, args, kwargs) -> None on the tiny models, in process."""
    from tests import tiny
    from whyword.ui import api

    paths = {name: str(build(folder / name)) for name, build in tiny.BUILDERS.items()}
    os.environ["WHYWORD_CACHE"] = str(folder / "cache")
    for name in ("WHYWORD_HOSTED", "SPACE_ID", "WHYWORD_MODELS"):
        os.environ.pop(name, None)
    _tiny_retriever(paths["bert"])

    def call(route: str, args: tuple, kwargs: dict) -> str:
        result = answer(getattr(api, f"api_{route}"), *args, **kwargs)
        return "sentence" if isinstance(result, Exception) else "result"

    return call, paths["gpt2"], paths["bert"]


def _tiny_retriever(bert_folder: str) -> None:
    from tests.tiny import build_retriever
    from whyword.evidence import retriever as retrievers

    retrievers._CACHE.put("default", build_retriever(bert_folder))


def remote_caller(url: str):
    """(route, args, kwargs) -> None against a running app through gradio_client."""
    import json

    from gradio_client import Client

    client = Client(url, verbose=False)

    def call(route: str, args: tuple, kwargs: dict) -> str:
        try:
            json.dumps([args, kwargs], allow_nan=False)
        except (TypeError, ValueError):
            return "not sendable"
        try:
            client.predict(*args, api_name=f"/{route}", **kwargs)
        except Exception as error:  # noqa: BLE001 — the client's error carries the sentence
            message = str(error)
            if "upstream Gradio app has raised an exception" in message:
                raise AssertionError(f"gradio's generic error: {message}") from None
            if type(error).__name__ != "AppError":  # gradio_client refused to send it
                return "refused by the client"
            assert_sentence(message, [*args, *kwargs.values()])
            return "sentence"
        return "result"

    return call


def run(route, call, causal, masked, cases, at_seed, tally, failures, log) -> None:
    @seed(at_seed)
    @settings(
        max_examples=cases,
        database=None,
        deadline=None,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def fuzz(data) -> None:
        args, kwargs = data.draw(s.calls(route, causal, masked))
        before = len(log.tracebacks())
        try:
            tally[route, call(route, args, kwargs)] += 1
        except Exception as error:  # noqa: BLE001 — counted and listed, the fuzz goes on
            tally[route, "failure"] += 1
            failures.append((route, f"{type(error).__name__}: {str(error)[:300]}"))
        if len(log.tracebacks()) > before:
            tally[route, "traceback logged"] += 1
            failures.append((route, "traceback in the log: " + log.tracebacks()[-1][:200]))

    fuzz()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=300, help="cases per route")
    parser.add_argument("--routes", default=",".join(ROUTES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--url", default="", help="a running app (else in process, tiny models)")
    parser.add_argument("--model", default="default", help="the model of the usual cases (--url)")
    args = parser.parse_args()
    log = Records()
    logging.getLogger("whyword").addHandler(log)
    logging.getLogger("whyword").setLevel(logging.INFO)
    with tempfile.TemporaryDirectory() as folder:
        if args.url:
            call, causal, masked = remote_caller(args.url), args.model, args.model
        else:
            call, causal, masked = local_caller(Path(folder))
        tally: Counter = Counter()
        failures: list[tuple[str, str]] = []
        print(
            f"{'route':10} {'cases':>6} {'results':>8} {'sentences':>10} {'failures':>9} {'s':>7}"
        )
        for route in args.routes.split(","):
            clock = time.perf_counter()
            run(route, call, causal, masked, args.cases, args.seed, tally, failures, log)
            n = sum(v for (r, _), v in tally.items() if r == route and _ != "traceback logged")
            print(
                f"{route:10} {n:6d} {tally[route, 'result']:8d} {tally[route, 'sentence']:10d} "
                f"{tally[route, 'failure'] + tally[route, 'traceback logged']:9d} "
                f"{time.perf_counter() - clock:7.1f}"
            )
        other = {k: v for k, v in tally.items() if k[1] not in ("result", "sentence", "failure")}
        if other:
            print("also:", dict(other))
        for route, failure in failures[:50]:
            print(f"FAIL /{route}: {failure}")
        said = "" if args.url else f"; user mistakes logged as one line: {len(log.mistakes())}"
        print(f"{len(failures)} failures{said}")  # --url: the server's own log holds its lines
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
