"""What one forward row costs as a call grows, in fp32 and under bf16 autocast (no gradients).

    HF_HUB_OFFLINE=1 python benchmarks/calibrate/row_cost.py          # default model, 12 and 24 tokens

Sizes `budget.WIDE_TOKEN_ROWS`: fp32 calls stop getting cheaper per row near 64 rows, bf16
ones keep gaining up to a few hundred, so the faithfulness curves (bf16 under precision
"auto") take wider calls. Milliseconds per row; compare within one run.
"""

from __future__ import annotations

import sys
import time

import torch

from whyword.models.load import load_model

ROWS = (1, 4, 16, 32, 64, 128, 256)


def per_row(model, rows: int, tokens: int, bf16: bool) -> float:
    ids = torch.randint(100, 20000, (rows, tokens))  # (B, T)
    embeds = model.get_input_embeddings()(ids).detach()  # (B, T, H)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        model(inputs_embeds=embeds, logits_to_keep=1)  # warm-up: kernels, packed weights
        reps = max(2, 64 // rows)
        clock = time.perf_counter()
        for _ in range(reps):
            model(inputs_embeds=embeds, logits_to_keep=1)
    return 1000 * (time.perf_counter() - clock) / reps / rows


def main() -> None:
    lm = load_model(sys.argv[1] if len(sys.argv) > 1 else None)
    print(f"torch threads {torch.get_num_threads()}")
    print("| tokens | precision | " + " | ".join(f"{r} rows" for r in ROWS) + " |")
    print("|---|---|" + "---|" * len(ROWS))
    for tokens in (12, 24):
        for bf16 in (False, True):
            cells = [f"{per_row(lm.model, r, tokens, bf16):.1f}" for r in ROWS]
            name = "bf16 autocast" if bf16 else "fp32"
            print(f"| {tokens} | {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
