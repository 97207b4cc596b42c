"""A one-pass method's `explain` against one raw forward+backward of the same prompt.

Interleaved rounds in one process (default model, 12-token prompt, result cache off): the
raw bound is `model(inputs_embeds=…, logits_to_keep=1)` + log_softmax + `autograd.grad`;
`explain(text, methods=(m,))` must do the predictions, the value and the gradient within it.

    HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 python benchmarks/onepass.py [--reps=9]
"""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("WHYWORD_CACHE_ENTRIES", "0")  # every call computes

import torch  # noqa: E402

import whyword  # noqa: E402

TEXT = "The capital of France is Paris. The capital of Italy is"  # 12 tokens (SmolLM2)


def raw(lm, ids: torch.Tensor) -> None:
    x = lm.embed(ids).detach().unsqueeze(0).requires_grad_()  # (1, T, H)
    mask = torch.ones(x.shape[:2], dtype=torch.long)  # (1, T)
    logits = lm.model(inputs_embeds=x, attention_mask=mask, use_cache=False, logits_to_keep=1)
    lp = torch.log_softmax(logits.logits[0, -1].float(), -1)  # (V,)
    torch.autograd.grad(lp.max(), x)


def main() -> None:
    reps = next((int(a.split("=")[1]) for a in sys.argv[1:] if a.startswith("--reps=")), 9)
    lm = whyword.load_model()
    ids = torch.tensor(lm.tokenizer(TEXT)["input_ids"])  # (T,)
    tools = {
        "raw fwd+bwd": lambda: raw(lm, ids),
        "explain saliency": lambda: whyword.explain(TEXT, methods="saliency", model=lm),
        "explain input_x_gradient": lambda: whyword.explain(
            TEXT, methods="input_x_gradient", model=lm
        ),
        "explain attnlrp": lambda: whyword.explain(TEXT, methods="attnlrp", model=lm),
    }
    times: dict[str, list[float]] = {name: [] for name in tools}
    for round_ in range(reps + 1):  # round 0 warms up
        for name, run in tools.items():
            with torch.enable_grad():
                start = time.perf_counter()
                run()
                seconds = time.perf_counter() - start
            if round_:
                times[name].append(seconds)
    base = statistics.median(times["raw fwd+bwd"])
    print(f"{len(ids)} tokens, {reps} interleaved rounds, medians")
    print("| call | seconds | × raw fwd+bwd |\n|---|---|---|")
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"| {name} | {m:.3f} | {m / base:.2f} |")


if __name__ == "__main__":
    main()
