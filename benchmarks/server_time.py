"""The server's part of the page's default view, without a browser: `explain()` in process and
the app's `/explain` API through `gradio_client` (loopback), result cache off.

    HF_HUB_OFFLINE=1 python benchmarks/server_time.py [--reps 6]

Medians (range) after one warm-up call; compare with page_latency.py, whose Chromium shares
the same cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ["WHYWORD_CACHE_ENTRIES"] = "0"
sys.path.insert(0, str(Path(__file__).resolve().parent))

import load_test  # noqa: E402

import whyword  # noqa: E402
from whyword.runtime.options import PAGE_METHODS, ExplainOptions  # noqa: E402

TEXTS = [
    "The keys to the cabinet are on the table next to the",
    "She opened the door, looked outside and saw a",
]


def summary(runs: list[float]) -> str:
    rest = runs[1:]  # the first call warms up
    return f"{statistics.median(rest):.2f} s ({min(rest):.2f}–{max(rest):.2f})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=6)
    args = parser.parse_args(argv)
    lm = whyword.load_model()
    opts = ExplainOptions(faithfulness=True)
    for text in TEXTS:
        runs = []
        for _ in range(args.reps):
            clock = time.perf_counter()
            e = whyword.explain(text, methods=PAGE_METHODS, model=lm, options=opts)
            runs.append(time.perf_counter() - clock)
        split = {k: round(v, 2) for k, v in e.timings.items()}
        print(f"explain(), {len(e.tokens)} tokens: {summary(runs)} {split}", flush=True)
    from gradio_client import Client

    proc, url = load_test.launch(None, {"WHYWORD_CACHE_ENTRIES": "0"}, None)
    try:
        client = Client(url, verbose=False)
        methods = ",".join(PAGE_METHODS)
        for text in TEXTS:
            runs = []
            for _ in range(args.reps):
                clock = time.perf_counter()
                client.predict(
                    text, "default", "", "", methods, 32, "zero", 10, 0, api_name="/explain"
                )
                runs.append(time.perf_counter() - clock)
            print(f"/explain API, {text!r}: {summary(runs)}", flush=True)
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
