"""The faithfulness curves in bf16 autocast against fp32: area error and speed-up.

For each prompt of benchmarks/prompts_faithfulness.json, `explain` runs with the page's
methods and faithfulness on, once with `precision="fp32"` (everything fp32) and once with
`"auto"` (heatmaps fp32, curves bf16 where native: whyword/runtime/precision.py), interleaved, same
target, result cache off. The heatmaps are identical, so every difference is the curves':
per method the deletion and insertion areas' |bf16 − fp32| (mean and worst over prompts),
the random order's area, and the faithfulness stage's time ratio fp32 / bf16.

    HF_HUB_OFFLINE=1 python benchmarks/calibrate/curve_precision.py [--prompts=24] [--methods=...] [--threads=1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("WHYWORD_CACHE_ENTRIES", "0")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402

import whyword  # noqa: E402
from whyword.runtime import precision  # noqa: E402
from whyword.runtime.options import PAGE_METHODS  # noqa: E402

PROMPTS = Path(__file__).parents[1] / "prompts_faithfulness.json"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=24)
    parser.add_argument("--methods", default=",".join(PAGE_METHODS))
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if not precision.bf16_native(torch.device("cpu")):
        raise SystemExit("This CPU has no native bf16: the curves stay fp32 here.")
    lm = whyword.load_model()
    prompts = json.loads(PROMPTS.read_text())["prompts"][: args.prompts]
    methods = tuple(args.methods.split(","))
    errors: dict[tuple[str, str], list[float]] = {}
    seconds: dict[str, list[float]] = {"fp32": [], "auto": []}
    for i, text in enumerate(prompts):
        runs = {}
        order = ("fp32", "auto") if i % 2 == 0 else ("auto", "fp32")  # interleaved
        for p in order:
            runs[p] = whyword.explain(
                text, methods=methods, model=lm, precision=p, faithfulness=True
            )
            seconds[p].append(runs[p].timings["faithfulness"])
        a32, a16 = runs["fp32"].attributions, runs["auto"].attributions
        for a, b in zip(a32, a16, strict=True):
            assert a.scores == b.scores and b.curve_precision == "bf16"
            for kind in ("deletion", "insertion", "random_deletion"):
                x, y = getattr(a, kind), getattr(b, kind)
                if x is not None and y is not None:
                    errors.setdefault((a.method, kind), []).append(abs(x - y))
        print(f"  {i + 1}/{len(prompts)} {len(runs['fp32'].tokens)} tokens", flush=True)
    print(f"\n{len(prompts)} prompts, load average at the end {os.getloadavg()[0]:.1f}\n")
    print("| method | area | mean abs error | worst | bound |")
    print("|---|---|---|---|---|")
    for (method, kind), errs in errors.items():
        print(
            f"| {method} | {kind.replace('_', ' ')} | {statistics.mean(errs):.4f} | "
            f"{max(errs):.4f} | {precision.CURVE_BOUND} |"
        )
    ratio = [a / b for a, b in zip(seconds["fp32"], seconds["auto"], strict=True)]
    print(
        f"\nfaithfulness stage: fp32 {statistics.median(seconds['fp32']):.2f} s, "
        f"bf16 {statistics.median(seconds['auto']):.2f} s median; "
        f"speed-up median {statistics.median(ratio):.2f}× (range {min(ratio):.2f}–{max(ratio):.2f})"
    )


if __name__ == "__main__":
    main()
