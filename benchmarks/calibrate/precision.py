"""bf16 autocast against fp32: per-token error of every method, top-1 agreement, speed-up.

For each prompt of benchmarks/prompts_faithfulness.json (the first `--prompts`, default 16),
`explain` runs once in fp32 and once in bf16 (interleaved, same target: fp32's top-1), result
cache off. Per method: relative L2 error ‖s_bf16 − s_fp32‖ / ‖s_fp32‖, max-abs error
max|s_bf16 − s_fp32| / max|s_fp32| (the worst token), and whether the top-scoring token is the
same; mean and worst over prompts; and the median time ratio fp32 / bf16. For IG also its
completeness under each precision — |Σ scores − (F(x) − F(x'))| / |F(x) − F(x')|, each measured
on the function it attributed (bf16's F under autocast) — and the steps its adaptive search took.

    HF_HUB_OFFLINE=1 python benchmarks/calibrate/precision.py [--prompts=16] [--threads=1]
        [--methods=saliency,occlusion]   # a subset (a bounded run on a busy machine)
        [--ig-steps=64]   # IG non-adaptive at this many steps: the same path in both precisions
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("WHYWORD_CACHE_ENTRIES", "0")

import torch  # noqa: E402

import whyword  # noqa: E402
from whyword.attr import METHODS as REGISTERED  # noqa: E402

METHODS = tuple(REGISTERED)  # every registered method
PROMPTS = Path(__file__).parents[1] / "prompts_faithfulness.json"


def errors(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float, bool]:
    """(relative L2, max-abs relative to fp32's largest |score|, same top token) of b vs a."""
    rel = float((b - a).norm() / a.norm().clamp_min(1e-12))
    mx = float((b - a).abs().max() / a.abs().max().clamp_min(1e-12))
    return rel, mx, int(a.argmax()) == int(b.argmax())


def main() -> None:
    n = next((int(a.split("=")[1]) for a in sys.argv[1:] if a.startswith("--prompts=")), 16)
    picked = next(
        (a.split("=")[1].split(",") for a in sys.argv[1:] if a.startswith("--methods=")), 0
    )
    methods = tuple(picked) if picked else METHODS
    threads = next((int(a.split("=")[1]) for a in sys.argv[1:] if a.startswith("--threads=")), 1)
    torch.set_num_threads(threads)
    fixed = next((int(a.split("=")[1]) for a in sys.argv[1:] if a.startswith("--ig-steps=")), 0)
    ig_opts = {"adaptive": False, "n_steps": fixed} if fixed else {}
    loads = [os.getloadavg()[0]]
    prompts = json.loads(PROMPTS.read_text())["prompts"][:n]
    lm = whyword.load_model()
    per: dict[str, list[tuple[float, float, bool]]] = {m: [] for m in methods}
    secs: dict[str, dict[str, list[float]]] = {m: {"fp32": [], "bf16": []} for m in methods}
    ig: dict[str, list[tuple[float, int]]] = {"fp32": [], "bf16": []}  # (completeness, steps)
    pred_agree = []
    for text in [prompts[0], *prompts]:  # the first run warms up
        warm = not pred_agree
        out = {}
        for precision in ("fp32", "bf16"):
            for m in methods:
                target = out.get(("fp32", m))
                t = None if target is None else target.target_ids[0]
                start = time.perf_counter()
                e = whyword.explain(text, t, methods=m, model=lm, precision=precision, **ig_opts)
                if not warm:
                    secs[m][precision].append(time.perf_counter() - start)
                out[(precision, m)] = e
        loads.append(os.getloadavg()[0])
        print(f"prompt {len(pred_agree)}, load {loads[-1]:.1f}", file=sys.stderr, flush=True)
        if warm:
            pred_agree.append(None)
            continue
        for m in methods:
            a = torch.tensor(out[("fp32", m)].attributions[0].scores, dtype=torch.double)
            b = torch.tensor(out[("bf16", m)].attributions[0].scores, dtype=torch.double)
            per[m].append(errors(a[1:], b[1:]))  # the first token: IG's held sink, 0 in both
            for precision in ("fp32", "bf16"):
                att = out[(precision, m)].attributions[0]
                if att.relative_error is not None:  # IG: completeness on its own function
                    ig[precision].append((att.relative_error, att.steps))
        top = [out[(p, methods[0])].predictions[0].candidates[0].token_id for p in ("fp32", "bf16")]
        pred_agree.append(top[0] == top[1])
    agree = [a for a in pred_agree if a is not None]
    print(
        f"{len(agree)} prompts; top-1 prediction identical in {sum(agree)}/{len(agree)}; "
        f"{torch.get_num_threads()} thread(s), 1-min load average {min(loads):.1f}–{max(loads):.1f}"
    )
    print(
        "| method | rel. L2 mean | rel. L2 worst | max-abs mean | max-abs worst | top token same "
        "| fp32 s | bf16 s | speed-up |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    result = {}
    for m in methods:
        rel = [r for r, _, _ in per[m]]
        mx = [x for _, x, _ in per[m]]
        same = sum(s for _, _, s in per[m])
        f32, b16 = statistics.median(secs[m]["fp32"]), statistics.median(secs[m]["bf16"])
        result[m] = {"rel_l2": rel, "max_abs": mx, "same_top": same, "fp32": f32, "bf16": b16}
        print(
            f"| {m} | {statistics.mean(rel):.3f} | {max(rel):.3f} | {statistics.mean(mx):.3f} "
            f"| {max(mx):.3f} | {same}/{len(rel)} | {f32:.2f} | {b16:.2f} | {f32 / b16:.2f}× |"
        )
    for precision, runs in ig.items():
        if runs:
            err, steps = [e for e, _ in runs], [n for _, n in runs]
            result[f"ig_{precision}"] = {"completeness": err, "steps": steps}
            print(
                f"IG {precision}: completeness error mean {statistics.mean(err):.4f}, worst "
                f"{max(err):.4f}, ≤ 5 % on {sum(e <= 0.05 for e in err)}/{len(err)}; "
                f"steps mean {statistics.mean(steps):.1f} ({min(steps)}–{max(steps)})"
            )
    out_dir = Path(__file__).parents[1] / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"precision-{'-'.join(methods)}{f'-{fixed}' if fixed else ''}.json").write_text(
        json.dumps(result, indent=1)
    )


if __name__ == "__main__":
    main()
