"""The Sequence page's costs on the default model, as ratios within one run.

1. Click → updated chart (server side: the next-step distribution, warped, as the plotly
   figure) after 20 and 200 tokens of context: the KV-cached step (one token's forward on the
   cached prefix) against a full forward over the whole text; and a slider move (re-warp of
   the cached logits, no model call).
2. The steps × source matrix of 20 generated tokens after a 12-token prompt (saliency, IG)
   against 20 separate `whyword.explain` calls, one per step (result cache off).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/sequence_step.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ["WHYWORD_CACHE_ENTRIES"] = "0"  # every explain call computes

import torch  # noqa: E402

import whyword as ww  # noqa: E402
from whyword.models.encoding import encode  # noqa: E402
from whyword.render.sequence import next_step_figure  # noqa: E402
from whyword.tasks.stepper import KVStore, Warp, last_logits, warp_step  # noqa: E402
from whyword.tasks.steps import attribute_steps  # noqa: E402

PROMPT = "In a shocking finding, scientists discovered a herd of unicorns"  # 12 tokens
LONG = (
    "Once upon a time, in a small village by the sea, there lived an old lighthouse keeper. "
    "Every night he climbed the long spiral stairs to light the lamp, and every morning he "
    "walked down to the harbour to talk with the fishermen about the weather and the tides. "
)
WARP = Warp(temperature=0.8, top_k=50, top_p=0.9)


def chart(lm, ids, store: KVStore):
    with lm.lock:
        logits = last_logits(lm, ids, store)  # (V,)
    return next_step_figure(warp_step(lm, ids, logits, WARP, 10))


def click_times(lm, context: int, rounds: int) -> tuple[float, float, float]:
    ids = tuple(encode(lm, LONG * 8).ids[:context])
    cached, full, rewarp = [], [], []
    for r in range(rounds):
        store = KVStore()
        chart(lm, ids, store)  # the chart before the click: the prefix is cached
        clicked = (*ids, 1000 + r)
        t = time.perf_counter()
        chart(lm, clicked, store)  # one token's forward
        cached.append(time.perf_counter() - t)
        t = time.perf_counter()
        chart(lm, clicked, KVStore())  # the whole text again
        full.append(time.perf_counter() - t)
        t = time.perf_counter()
        chart(lm, clicked, store)  # a slider: the cached logits re-warped
        rewarp.append(time.perf_counter() - t)
    return statistics.median(cached), statistics.median(full), statistics.median(rewarp)


def matrix_times(lm, method: str, steps: int) -> tuple[float, float]:
    gen = ww.generate(PROMPT, max_new_tokens=steps)  # greedy
    prompt = tuple(t.id for t in gen.prompt)
    t = time.perf_counter()
    attribute_steps(prompt, gen.token_ids, lm.name, method, lm)
    together = time.perf_counter() - t
    t = time.perf_counter()
    for s in range(len(gen.steps)):  # the text before step s, its token as the target
        text = lm.tokenizer.decode((*prompt, *gen.token_ids[:s]))
        ww.explain(text, target=gen.token_ids[s], methods=method)
    return together, time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="1: two spinning OpenMP threads "
        "on a shared 2-core machine made every forward ~10x slower",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lm = ww.load_model()
    print(
        f"prompt {len(encode(lm, PROMPT).ids)} tokens; medians of {args.rounds} rounds; "
        f"{args.threads} torch thread(s)"
    )
    for context in (20, 200):
        cached, full, rewarp = click_times(lm, context, args.rounds)
        print(
            f"click → chart at {context} tokens: KV-cached {1000 * cached:.1f} ms | full "
            f"forward {1000 * full:.1f} ms | {full / cached:.1f}x | slider re-warp "
            f"{1000 * rewarp:.1f} ms"
        )
    for method in ("saliency", "integrated_gradients"):
        together, separate = matrix_times(lm, method, args.steps)
        print(
            f"{method}: matrix of {args.steps} steps {together:.2f} s | {args.steps} separate "
            f"explain calls {separate:.2f} s | {separate / together:.1f}x"
        )


if __name__ == "__main__":
    main()
