"""Cost of R rows of one attribution matrix against R separate one-row calls.

The rows are the 20 steps of a greedy continuation of a 12-token prompt on the default model
(each generated token attributed to the prompt and the earlier generated tokens), for
saliency and for IG; the two ways are interleaved and each row's scores are checked equal.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/matrix_rows.py [--rounds 3] [--steps 20]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import whyword as ww
from whyword.models.encoding import encode

PROMPT = "The old lighthouse keeper climbed the stairs every night to"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20, help="generated tokens = rows")
    parser.add_argument("--methods", default="saliency,integrated_gradients")
    args = parser.parse_args()
    torch.set_num_threads(2)
    lm = ww.load_model()
    prompt = encode(lm, PROMPT).ids
    with torch.no_grad():
        out = lm.model.generate(torch.tensor([prompt]), max_new_tokens=args.steps, do_sample=False)
    ids = tuple(out[0].tolist())
    rows = [ww.Output(position=p) for p in range(len(prompt) - 1, len(ids) - 1)]
    print(f"prompt {len(prompt)} tokens, {len(rows)} generated steps = rows, {len(ids)} tokens")
    for method in args.methods.split(","):
        together, separate = [], []
        for _ in range(args.rounds):
            t = time.perf_counter()
            matrix = ww.attribute(lm, ids, rows, method)
            together.append(time.perf_counter() - t)
            t = time.perf_counter()
            alone = [ww.attribute(lm, ids, row, method) for row in rows]
            separate.append(time.perf_counter() - t)
        worst = max(
            float(np.nanmax(np.abs(matrix.scores(method)[r] - a.scores(method)[0])))
            for r, a in enumerate(alone)
        )
        a, b = statistics.median(together), statistics.median(separate)
        print(
            f"{method}: matrix of {len(rows)} rows {a:.2f} s | {len(rows)} separate calls "
            f"{b:.2f} s | {b / a:.2f}x faster | max |difference| {worst:.2e}"
        )


if __name__ == "__main__":
    main()
