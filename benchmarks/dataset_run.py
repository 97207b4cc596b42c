"""Throughput of a dataset run (`explain_dataset`, `whyword run`) against a Python loop of
`explain()` calls, one prompt at a time, on the same prompts, model and methods.

    HF_HUB_OFFLINE=1 python benchmarks/dataset_run.py [--prompts=50] [--rounds=3] [--threads=2]
        [--faithfulness]   # also the deletion / insertion curves (what `whyword run` does by default)

Prompts: the faithfulness benchmark's 24 and the batching benchmark's, then more of the same
kind (5–20 tokens on SmolLM2). Methods: saliency + occlusion (the page's, the issue's target).
The result cache is off (WHYWORD_CACHE_ENTRIES=0), so the loop computes every prompt. Rounds
are interleaved (loop, run, loop, run, ...) and the table gives medians; the machine may be
shared: compare the ratio, not the seconds. The run writes to a JSONL file as `whyword run`
does (the progress bar off).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("WHYWORD_CACHE_ENTRIES", "0")

import batching  # noqa: E402  (benchmarks/, beside this file)
import torch  # noqa: E402

from whyword.models.load import load_model  # noqa: E402
from whyword.tasks.dataset import explain_dataset  # noqa: E402
from whyword.tasks.explain import explain  # noqa: E402

METHODS = ("saliency", "occlusion")
MORE = [
    "The sun sets in the",
    "He poured a cup of hot",
    "The train to London leaves at nine in the",
    "A triangle has three sides and a square has",
    "The children built a snowman in the",
    "Paris is the capital of France and Berlin is the capital of",
    "She plays the piano and her brother plays the",
    "The library closes at six, so we should hurry to",
    "Fish live in water and birds live in the",
    "The recipe calls for two cups of",
    "On Sundays my grandmother bakes fresh",
    "The football match ended in a",
    "Winter is cold and summer is",
    "He forgot his umbrella and got completely",
]


def prompts(n: int) -> list[str]:
    path = Path(__file__).with_name("prompts_faithfulness.json")
    found = json.loads(path.read_text())["prompts"] + batching.PROMPTS + MORE
    unique = list(dict.fromkeys(found))
    if len(unique) < n:
        raise SystemExit(f"only {len(unique)} prompts written; ask for at most that many")
    return unique[:n]


def arg(name: str, default: float) -> float:
    return next(
        (float(a.split("=")[1]) for a in sys.argv[1:] if a.startswith(f"--{name}=")), default
    )


def loop(lm, texts, faith: bool) -> float:
    clock = time.perf_counter()
    for text in texts:
        explain(text, methods=METHODS, model=lm, faithfulness=faith)
    return time.perf_counter() - clock


def run(lm, texts, faith: bool) -> float:
    with tempfile.TemporaryDirectory() as folder:
        clock = time.perf_counter()
        explain_dataset(
            texts, METHODS, lm, out=Path(folder) / "r.jsonl", progress=False, faithfulness=faith
        )
        return time.perf_counter() - clock


def main() -> None:
    n, rounds = int(arg("prompts", 50)), int(arg("rounds", 3))
    torch.set_num_threads(int(arg("threads", torch.get_num_threads())))
    faith = "--faithfulness" in sys.argv
    lm = load_model()
    texts = prompts(n)
    lengths = [len(lm.tokenizer(t)["input_ids"]) for t in texts]
    run(lm, texts[:4], faith)  # warm-up
    loops, runs = [], []
    for _ in range(rounds):
        loops.append(loop(lm, texts, faith))
        runs.append(run(lm, texts, faith))
    a, b = statistics.median(loops), statistics.median(runs)
    load = os.getloadavg()[0]
    print(
        f"{lm.name}, {n} prompts of {min(lengths)}–{max(lengths)} tokens, {' + '.join(METHODS)}, "
        f"faithfulness {'on' if faith else 'off'}, {torch.get_num_threads()} thread(s), "
        f"median of {rounds} interleaved rounds, 1-min load average {load:.1f}"
    )
    print("| route | seconds | rows/s |")
    print("|---|---|---|")
    print(f"| loop of explain() | {a:.2f} | {n / a:.2f} |")
    print(f"| explain_dataset (whyword run) | {b:.2f} | {n / b:.2f} |")
    print(f"ratio (run / loop rows per second): {a / b:.2f}×")


if __name__ == "__main__":
    main()
