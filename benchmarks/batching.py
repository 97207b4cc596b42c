"""Does batching across users win? K prompts explained one by one vs in shared calls.

    HF_HUB_OFFLINE=1 python benchmarks/batching.py          # default model, K = 1, 4, 8, 16

Same methods and options as the page's API (its default methods, faithfulness on) and without
faithfulness; prompts of 5–13 tokens, in the scheduler's length buckets. Medians of 3
interleaved rounds; the machine may be shared: compare the ratios, not the seconds.
"""

from __future__ import annotations

import statistics
import sys
import time

import torch

from whyword.engine.cache import RESULTS
from whyword.models.load import load_model
from whyword.runtime.options import PAGE_METHODS, ExplainOptions
from whyword.serve.dispatch import length_buckets
from whyword.serve.scheduler import MAX_BATCH
from whyword.tasks.explain import ExplainRequest, explain, explain_many

PROMPTS = [
    "The capital of France is",
    "My favourite animal at the zoo is the",
    "The keys to the cabinet are on the",
    "Water boils at one hundred degrees",
    "In the morning the sun rises in the",
    "She opened the door and saw a",
    "The opposite of hot is",
    "The first man to walk on the moon was",
    "The largest ocean on Earth is the",
    "Cats like to sleep in warm places such as the",
    "To make a cake you need flour, sugar, eggs and",
    "After school we usually walk to the park and",
    "The colour of the sky on a clear day is",
    "A week has seven days and a year has twelve",
    "The tallest mountain in the world is Mount",
    "Bees make honey and cows give us",
]
METHODS = PAGE_METHODS


def one_by_one(lm, texts, opts) -> float:
    RESULTS.clear()
    clock = time.perf_counter()
    for text in texts:
        explain(text, methods=METHODS, model=lm, options=opts)
    return time.perf_counter() - clock


def together(lm, texts, opts) -> float:
    """As the scheduler's light lane runs them: length buckets, one shared call each."""
    lengths = [len(lm.tokenizer(t)["input_ids"]) for t in texts]
    clock = time.perf_counter()
    with lm.lock:
        for bucket in length_buckets(lengths, MAX_BATCH):
            explain_many(lm, [ExplainRequest(texts[i]) for i in bucket], METHODS, opts)
    return time.perf_counter() - clock


def main() -> None:
    lm = load_model(sys.argv[1] if len(sys.argv) > 1 else None)
    print(f"torch threads {torch.get_num_threads()}")
    print("| K | faithfulness | one by one s | shared calls s | speed-up |")
    print("|---|---|---|---|---|")
    for faith in (True, False):
        opts = ExplainOptions(faithfulness=faith)
        together(lm, PROMPTS[:2], opts)  # warm-up
        for k in (1, 4, 8, 16):
            alone, shared = [], []
            for _ in range(3):
                alone.append(one_by_one(lm, PROMPTS[:k], opts))
                shared.append(together(lm, PROMPTS[:k], opts))
            a, s = statistics.median(alone), statistics.median(shared)
            print(
                f"| {k} | {'on' if faith else 'off'} | {a:.2f} | {s:.2f} | {a / s:.2f}× |",
                flush=True,
            )


if __name__ == "__main__":
    main()
