"""Peak memory of `whyword.explain` per method and text length, each run in its own process.

Every measurement is a fresh subprocess under an address-space cap (`--cap-gb`, default 18:
a run that needs more fails with an allocation error instead of the kernel killing something
else). It loads the default model, predicts once on a tiny text (the baseline: the loaded
model), then explains one text with one method and reads the peak RSS (`ru_maxrss`). The
table shows the peak above that baseline, the seconds of the explain call and whether it ran.

    HF_HUB_OFFLINE=1 python benchmarks/memory.py                       # the table below
    HF_HUB_OFFLINE=1 python benchmarks/memory.py --tokens=100,500 --methods=saliency
    HF_HUB_OFFLINE=1 python benchmarks/memory.py --steps=4,16 --tokens=500 --methods=integrated_gradients

IG runs plain (non-adaptive) Gauss–Legendre IG with `--steps` nodes (16 by default: one batch
of 16 rows in the old code); memory must not depend on the step count once batches are sized
by the memory budget, which `--steps=4,16` shows. Occlusion costs T forwards of T tokens, so
by default it runs at the two shorter lengths only (`--occlusion-max` to change that).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

METHODS = ("saliency", "input_x_gradient", "integrated_gradients", "smoothgrad", "occlusion")
PROSE = (
    "The old lighthouse keeper had lived alone on the rocky island for nearly thirty years. "
    "Every evening he climbed the winding stairs to light the great lamp, and every morning he "
    "wrote a few lines in the logbook about the weather, the ships and the birds. In the small "
    "village across the water, the people gathered every autumn to celebrate the harvest. "
    "Children ran between the stalls, musicians played old songs, and the elders told stories "
    "of the winters they had survived. One year a stranger arrived on the last ferry, carrying "
    "a wooden box that nobody was allowed to open, and asked for the way to the lighthouse. "
)


def text_of(lm, tokens: int) -> str:
    """A text of about `tokens` tokens (specials included) in this model's tokenizer."""
    from whyword.models.encoding import encode

    ids = lm.tokenizer(PROSE * (tokens // 60 + 2), add_special_tokens=False)["input_ids"]
    cut = tokens
    while True:
        text = lm.tokenizer.decode(ids[:cut]).strip()
        have = len(encode(lm, text).ids)
        if have <= tokens:
            return text
        cut -= have - tokens


def child(method: str, tokens: int, steps: int) -> None:
    import torch

    import whyword as ww

    lm = ww.load_model()
    ww.predict("Hi there", k=3, model=lm)
    text = text_of(lm, tokens)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MB
    options = {"k": 3}
    if method == "integrated_gradients":
        options |= {"n_steps": steps, "adaptive": False}
    start = time.perf_counter()
    try:
        e = ww.explain(text, methods=(method,), model=lm, **options)
        ok, length = "ok", len(e.tokens)
    except (RuntimeError, MemoryError) as error:  # the address-space cap was hit
        ok, length = f"failed: {str(error).splitlines()[0][:60]}", tokens
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = {
        "method": method,
        "tokens": length,
        "steps": steps if method == "integrated_gradients" else None,
        "base_mb": round(base),
        "above_mb": round(peak - base),
        "seconds": round(seconds, 1),
        "status": ok,
        "threads": torch.get_num_threads(),
    }
    print("RESULT " + json.dumps(row), flush=True)


def run(method: str, tokens: int, steps: int, cap_gb: float) -> dict:
    cap = int(cap_gb * 2**30)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    cmd = [sys.executable, __file__, "--child", method, str(tokens), str(steps)]
    out = subprocess.run(
        cmd, capture_output=True, text=True, preexec_fn=limit, cwd=Path(__file__).parent.parent
    )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = (out.stderr.strip().splitlines() or ["no output"])[-1][:60]
    return {"method": method, "tokens": tokens, "status": f"died ({out.returncode}): {tail}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, metavar=("METHOD", "TOKENS", "STEPS"))
    parser.add_argument("--tokens", default="100,500,1024")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--steps", default="16", help="IG nodes (plain IG), comma-separated")
    parser.add_argument("--occlusion-max", type=int, default=500, help="longest occlusion text")
    parser.add_argument("--cap-gb", type=float, default=18.0, help="address-space cap per run")
    parser.add_argument("--json", type=Path, help="also append every row to this JSON-lines file")
    args = parser.parse_args()
    if args.child:
        method, tokens, steps = args.child
        child(method, int(tokens), int(steps))
        return
    print("| method | tokens | IG steps | peak RSS above loaded model (MB) | seconds | status |")
    print("|---|---:|---:|---:|---:|---|")
    for method in args.methods.split(","):
        for tokens in (int(t) for t in args.tokens.split(",")):
            if method == "occlusion" and tokens > args.occlusion_max:
                continue
            step_list = args.steps.split(",") if method == "integrated_gradients" else ["0"]
            for steps in (int(s) for s in step_list):
                row = run(method, tokens, steps, args.cap_gb)
                if args.json:
                    with args.json.open("a") as f:
                        f.write(json.dumps(row) + "\n")
                print(
                    f"| {row['method']} | {row['tokens']} | {row.get('steps') or ''} | "
                    f"{row.get('above_mb', '')} | {row.get('seconds', '')} | {row['status']} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
