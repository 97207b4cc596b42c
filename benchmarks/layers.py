"""The layers view against one forward of the same prompt (issue 22's targets).

Interleaved rounds in one process (default model, 12-token prompt): one plain forward
(`logits_to_keep=1`, no hooks), the logit lens alone, lens + direct logit attribution (one
forward with hooks), and the 10 ablations of the check (20 patched rows: zeroed and
mean-ablated). Then the peak memory of the whole view at 1,024 tokens against a plain forward
there (ru_maxrss of a fresh subprocess each, so one does not hide the other).

    HF_HUB_OFFLINE=1 python benchmarks/layers.py [--reps=9] [--no-memory]
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time

import torch

import whyword

TEXT = "The capital of France is Paris. The capital of Italy is"  # 12 tokens (SmolLM2)
LONG = "The quick brown fox jumps over the lazy dog. " * 103  # ≈ 1,024 tokens


def forward(lm, ids: torch.Tensor) -> None:
    with torch.no_grad():
        lm.model(input_ids=ids, use_cache=False, logits_to_keep=1)


def timings(reps: int) -> None:
    lm = whyword.load_model()
    ids = torch.tensor([lm.tokenizer(TEXT)["input_ids"]])  # (1, T)
    runs = {
        "one forward": lambda: forward(lm, ids),
        "lens": lambda: whyword.layers(TEXT, model=lm, components=False),
        "lens + DLA": lambda: whyword.layers(TEXT, model=lm, check=0),
        "lens + DLA + 10 ablations": lambda: whyword.layers(TEXT, model=lm, check=10),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()  # warm up
    for _ in range(reps):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["one forward"])
    print(f"{ids.shape[1]} tokens, {torch.get_num_threads()} threads, median of {reps}")
    for name, ts in times.items():
        print(f"  {name:28s} {statistics.median(ts) * 1e3:8.1f} ms  {statistics.median(ts) / base:5.2f}×")
    ablations = statistics.median(times["lens + DLA + 10 ablations"]) - statistics.median(
        times["lens + DLA"]
    )
    print(f"  {'the 10 ablations alone':28s} {ablations * 1e3:8.1f} ms  {ablations / base:5.2f}×")


def peak(what: str) -> None:
    """Run one call at ~1,024 tokens and print this process's peak RSS in MB."""
    lm = whyword.load_model()
    ids = torch.tensor([lm.tokenizer(LONG)["input_ids"]])  # (1, T)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if what == "forward":
        forward(lm, ids)
    else:
        whyword.layers(LONG, model=lm, check=10)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(ids.shape[1], (after - before) / 1024)


def memory() -> None:
    for what in ("forward", "layers"):
        out = subprocess.run(
            [sys.executable, __file__, f"--peak={what}"], capture_output=True, text=True, check=True
        ).stdout.split()
        print(f"  {what:8s} at {out[-2]} tokens: peak RSS grew by {float(out[-1]):.0f} MB")


if __name__ == "__main__":
    flags = dict(a.lstrip("-").split("=", 1) if "=" in a else (a.lstrip("-"), "") for a in sys.argv[1:])
    if "peak" in flags:
        peak(flags["peak"])
    else:
        timings(int(flags.get("reps", 9)))
        if "no-memory" not in flags:
            memory()
