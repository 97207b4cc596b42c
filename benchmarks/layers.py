"""The layers view against one forward of the same prompt (issue 22's targets).

Interleaved rounds in one process (default model, 12-token prompt): one plain forward
(`logits_to_keep=1`, no hooks), the logit lens alone, lens + direct logit attribution (one
forward with hooks), and the 10 ablations of the check (20 patched rows: zeroed and
mean-ablated). Then the peak memory of the whole view at 1,024 tokens against a plain forward
there, and of the view under a small memory budget: the RSS sampled every 2 ms during the call,
above the RSS before it (a fresh subprocess each; psutil).

    HF_HUB_OFFLINE=1 python benchmarks/layers.py [--reps=9] [--no-memory]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
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
    """Run one call at ~1,024 tokens; print the token count and the RSS peak above the start."""
    import psutil

    lm = whyword.load_model()
    ids = torch.tensor([lm.tokenizer(LONG)["input_ids"]])  # (1, T)
    forward(lm, ids[:, :16])  # warm: allocator pools and lazy imports before the baseline
    me = psutil.Process()
    before, high, done = me.memory_info().rss, [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            high[0] = max(high[0], me.memory_info().rss)
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        forward(lm, ids) if what == "forward" else whyword.layers(LONG, model=lm, check=10)
    finally:
        done.set()
        sampler.join()
    print(ids.shape[1], (max(high[0], me.memory_info().rss) - before) / 2**20)


def memory() -> None:
    runs = [("forward", {}), ("layers", {}), ("layers", {"WHYWORD_MEMORY_BUDGET": "256MB"})]
    for what, env in runs:
        out = subprocess.run(
            [sys.executable, __file__, f"--peak={what}"],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **env},
        ).stdout.split()
        budget = f" (budget {env['WHYWORD_MEMORY_BUDGET']})" if env else ""
        print(f"  {what:8s}{budget} at {out[-2]} tokens: peak RSS +{float(out[-1]):.0f} MB")


if __name__ == "__main__":
    flags = dict(a.lstrip("-").split("=", 1) if "=" in a else (a.lstrip("-"), "") for a in sys.argv[1:])
    if "peak" in flags:
        peak(flags["peak"])
    else:
        timings(int(flags.get("reps", 9)))
        if "no-memory" not in flags:
            memory()
