"""WhyWord's attribution speed and IG accuracy against the raw PyTorch bound and its peers.

One process, tools interleaved round by round, medians of `--reps` timed rounds after one
warm-up round. Prints markdown tables and writes JSON to benchmarks/results/.

    HF_HUB_OFFLINE=1 python benchmarks/bench.py [--quick]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil
import torch
from captum.attr import (
    IntegratedGradients,
    LayerIntegratedGradients,
    LLMGradientAttribution,
    TextTokenInput,
)

import whyword
from whyword.attr import Problem
from whyword.engine import targets
from whyword.engine.predict import predictions as top_k_predictions
from whyword.engine.problems import build_problem
from whyword.models.budget import rows_per_batch
from whyword.models.encoding import encode
from whyword.runtime.options import ExplainOptions
from whyword.tasks.explain import row_for

RESULTS = Path(__file__).parent / "results"
PROMPTS = {  # about 5, 12, 32 and 64 tokens with SmolLM2's tokenizer
    5: "The capital of France is",
    12: "After a long day at work, she went home and opened the",
    32: "The old lighthouse keeper had lived alone on the rocky island for nearly thirty years, "
    "and every evening he climbed the winding stairs to light the great",
    64: "In the small village at the foot of the mountains, the people gathered every autumn to "
    "celebrate the harvest. Children ran between the stalls, musicians played old songs, and the "
    "elders told stories of the winters they had survived. This year, however, a stranger arrived "
    "on the last day of the festival, carrying a",
}
METHODS = ("saliency", "input_x_gradient", "integrated_gradients", "smoothgrad", "occlusion")
TARGET_ERROR = 0.05  # "trustworthy" IG: completeness error at most 5 %
CAPTUM_FIRST, CAPTUM_CAP = 32, 256  # Captum IG n_steps doubled from FIRST up to CAP
# (the cap bounds the run: every rung is re-timed in 6 rounds, 480 steps a round at 62 tokens)


@dataclass
class Case:
    """One prompt with everything the tools need: text, target, WhyWord's problem."""

    tokens: int
    text: str
    target_id: int
    target_text: str
    predictions: tuple
    problem: Problem  # one row: the top-1 target


def build_case(lm, text: str) -> Case:
    opts = ExplainOptions()
    enc = encode(lm, text)
    preds = top_k_predictions(lm, enc, opts.k)
    top1 = preds[0].candidates[0]
    tgt = targets.resolve(lm, enc, None, top1.token_id)
    row = row_for(lm, enc, tgt.ids, None, 0, preds[0])
    problem = build_problem(lm, row.target.ids, [row], opts)
    return Case(len(enc.ids), text, top1.token_id, tgt.text, preds, problem)


# ---- the raw PyTorch bound: plain model calls, batched, torch.autograd.grad, frozen weights ----


def raw_log_prob(lm, embeds: torch.Tensor, target_id: int) -> torch.Tensor:
    """log p(target | embeds) at the last position, the leanest plain-PyTorch way."""
    mask = torch.ones(embeds.shape[:2], dtype=torch.long)  # (B, T)
    logits = lm.model(
        inputs_embeds=embeds, attention_mask=mask, use_cache=False, logits_to_keep=1
    ).logits[:, -1]  # (B, V)
    return torch.log_softmax(logits, dim=-1)[:, target_id]  # (B,)


def raw_gradients(lm, case: Case, rows: int, batch: int) -> None:
    """`rows` forward+backward passes of the input embeddings, `batch` rows at a time."""
    x = case.problem.inputs.detach()  # (1, T, H)
    for start in range(0, rows, batch):
        e = x.expand(min(batch, rows - start), -1, -1).clone().requires_grad_()  # (b, T, H)
        torch.autograd.grad(raw_log_prob(lm, e, case.target_id).sum(), e)


def raw_forwards(lm, case: Case, rows: int, batch: int) -> None:
    x = case.problem.inputs.detach()  # (1, T, H)
    with torch.no_grad():
        for start in range(0, rows, batch):
            raw_log_prob(lm, x.expand(min(batch, rows - start), -1, -1), case.target_id)


# ---- the tools ----


def whyword_method(lm, case: Case, method: str, **options) -> dict:
    start = time.perf_counter()
    exp = whyword.explain(
        case.text, methods=[method], model=lm, predictions=case.predictions, **options
    )
    total = time.perf_counter() - start
    attr = exp.attributions[0]
    return {
        "seconds": attr.seconds,
        "explain_seconds": total,
        "steps": attr.steps,
        "error": attr.relative_error,
    }


def captum_ig(lm, case: Case, n_steps: int, batch: int) -> dict:
    """Captum core IG on WhyWord's own F and baseline (same path, Gauss–Legendre, batched)."""
    p = case.problem
    start = time.perf_counter()
    attr, delta = IntegratedGradients(p.forward).attribute(
        p.inputs,
        baselines=p.baseline,
        additional_forward_args=(p.attention_mask,),
        n_steps=n_steps,
        internal_batch_size=batch,
        return_convergence_delta=True,
    )  # (1, T, H), (1,)
    seconds = time.perf_counter() - start
    gap = float(attr.detach().sum()) - float(delta)
    return {"seconds": seconds, "steps": n_steps, "error": abs(float(delta)) / abs(gap)}


def captum_llm_ig(lm, case: Case, n_steps: int, batch: int) -> dict:
    """Captum's LLMGradientAttribution(LayerIntegratedGradients) on the embedding layer.

    Its own defaults: baseline token id 0 at every position, full logits, no attention mask.
    """
    layer_ig = LayerIntegratedGradients(lm.model, lm.model.get_input_embeddings())
    llm = LLMGradientAttribution(layer_ig, lm.tokenizer)
    inp = TextTokenInput(case.text, lm.tokenizer)
    target = torch.tensor([case.target_id])
    start = time.perf_counter()
    res = llm.attribute(inp, target=target, n_steps=n_steps, internal_batch_size=batch)
    seconds = time.perf_counter() - start
    with torch.no_grad():  # its F at the input (all features on) and at the baseline (off)
        on = llm.attr_method.forward_func(inp.to_tensor(), inp, target, 0)
        off = llm.attr_method.forward_func(torch.zeros_like(inp.to_tensor()), inp, target, 0)
    gap = float(on) - float(off)
    return {
        "seconds": seconds,
        "steps": n_steps,
        "error": abs(float(res.seq_attr.sum()) - gap) / abs(gap),
    }


def inseq_ig(model, case: Case, n_steps: int, batch: int) -> dict:
    """Inseq's IG with its defaults (UNK-token baseline), attributing log p(target)."""
    start = time.perf_counter()
    out = model.attribute(
        case.text,
        generated_texts=case.text + case.target_text,
        n_steps=n_steps,
        internal_batch_size=batch,
        return_convergence_delta=True,
        attributed_fn="probability",
        logprob=True,
        show_progress=False,
    )
    seconds = time.perf_counter() - start
    seq = out.sequence_attributions[0]
    delta = float(seq.step_scores["deltas"][0])
    total = float(torch.nan_to_num(seq.target_attributions[:-1]).sum())
    return {"seconds": seconds, "steps": n_steps, "error": abs(delta) / abs(total - delta)}


def load_inseq(lm):
    try:
        import inseq

        return inseq.load_model(lm.model, "integrated_gradients", tokenizer=lm.tokenizer)
    except Exception as error:  # an optional peer: report it, do not fail the benchmark
        print(f"inseq unavailable: {type(error).__name__}: {error}", file=sys.stderr)
        return None


# ---- the measurement loop ----


def interleave(jobs: dict[str, Callable[[], dict]], reps: int) -> dict[str, dict]:
    """Run every job once to warm up, then `reps` rounds with all jobs in turn; medians."""
    runs: dict[str, list[dict]] = defaultdict(list)
    for round_ in range(reps + 1):
        for name, job in jobs.items():
            gc.collect()
            result = job()
            if round_:
                runs[name].append(result)
    return {name: summarize(rs) for name, rs in runs.items()}


def summarize(runs: list[dict]) -> dict:
    out = dict(runs[-1])
    out["seconds"] = statistics.median(r["seconds"] for r in runs)
    out["all_seconds"] = [round(r["seconds"], 4) for r in runs]
    if "explain_seconds" in runs[0]:
        out["explain_seconds"] = statistics.median(r["explain_seconds"] for r in runs)
    return out


def timed(fn: Callable[[], None]) -> Callable[[], dict]:
    def job() -> dict:
        start = time.perf_counter()
        fn()
        return {"seconds": time.perf_counter() - start}

    return job


def bench_methods(lm, case: Case, reps: int) -> dict:
    """Each WhyWord method against the raw bound for the same number of passes."""
    opts = ExplainOptions()
    batch = rows_per_batch(lm, case.tokens)
    probe = {m: whyword_method(lm, case, m) for m in METHODS}  # step counts are deterministic
    jobs: dict[str, Callable[[], dict]] = {}
    for m in METHODS:
        jobs[m] = lambda m=m: whyword_method(lm, case, m)
    jobs["raw:1"] = timed(lambda: raw_gradients(lm, case, 1, 1))
    jobs["raw:smoothgrad"] = timed(
        lambda: raw_gradients(lm, case, opts.nt_samples, min(opts.nt_samples, batch))
    )
    ig_steps = probe["integrated_gradients"]["steps"]
    jobs["raw:ig"] = timed(lambda: raw_gradients(lm, case, ig_steps, batch))
    jobs["raw:occlusion"] = timed(lambda: raw_forwards(lm, case, case.tokens + 1, batch))
    return interleave(jobs, reps)


def bench_peers(lm, case: Case, inseq_model, n_steps: int, reps: int) -> dict:
    """IG at equal steps: WhyWord (plain and adaptive), Captum IG, Captum LLM, Inseq."""
    batch = rows_per_batch(lm, case.tokens)
    jobs = {
        "whyword_ig_plain": lambda: whyword_method(
            lm, case, "integrated_gradients", adaptive=False, n_steps=n_steps
        ),
        "captum_ig": lambda: captum_ig(lm, case, n_steps, batch),
        "captum_llm_layer_ig": lambda: captum_llm_ig(lm, case, n_steps, batch),
        "raw": lambda: {
            **timed(lambda: raw_gradients(lm, case, n_steps, batch))(),
            "steps": n_steps,
        },
    }
    if inseq_model is not None:
        jobs["inseq_ig"] = lambda: inseq_ig(inseq_model, case, n_steps, batch)
    return interleave(jobs, reps)


def captum_steps_needed(lm, case: Case, batch: int, cap: int) -> tuple[int | None, list[dict]]:
    """Double Captum IG's n_steps from CAPTUM_FIRST until its error is <= TARGET_ERROR."""
    tried, n = [], CAPTUM_FIRST
    while n <= cap:
        tried.append(captum_ig(lm, case, n, batch))
        log(f"  captum ig {case.tokens} tokens, {n} steps: error {pct(tried[-1]['error'])}")
        if tried[-1]["error"] <= TARGET_ERROR:
            return n, tried
        n *= 2
    return None, tried


def bench_time_to_target(lm, case: Case, reps: int, cap: int) -> dict:
    """Time to <= 5 % completeness error: WhyWord's default IG against Captum IG, same path.

    Captum's time is its doubling search (CAPTUM_FIRST, 2×, … steps, each run checked with its
    convergence delta until one is within 5 %): what a user without an oracle has to run. Each
    rung is timed in the interleaved rounds; the search is the sum of the rungs' medians."""
    batch = rows_per_batch(lm, case.tokens)
    needed, ladder = captum_steps_needed(lm, case, batch, cap)
    jobs = {"whyword_ig_default": lambda: whyword_method(lm, case, "integrated_gradients")}
    for rung in ladder:
        n = rung["steps"]
        jobs[f"captum_ig:{n}"] = lambda n=n: captum_ig(lm, case, n, batch)
    out = interleave(jobs, reps)
    out["captum_ladder"] = [
        {
            "steps": r["steps"],
            "error": r["error"],
            "seconds": out[f"captum_ig:{r['steps']}"]["seconds"],
        }
        for r in ladder
    ]
    out["captum_steps_needed"] = needed
    out["captum_cap"] = cap
    out["captum_search_seconds"] = sum(r["seconds"] for r in out["captum_ladder"])
    if needed is not None:
        out["captum_ig_enough"] = out[f"captum_ig:{needed}"]
    return out


def bench_steps(lm, case: Case, steps: list[int], reps: int) -> dict:
    """How IG time grows with steps (plain Gauss–Legendre, no refinement) vs the raw bound."""
    batch = rows_per_batch(lm, case.tokens)
    jobs: dict[str, Callable[[], dict]] = {}
    for n in steps:
        jobs[f"ig:{n}"] = lambda n=n: whyword_method(
            lm, case, "integrated_gradients", adaptive=False, n_steps=n
        )
        jobs[f"raw:{n}"] = timed(lambda n=n: raw_gradients(lm, case, n, batch))
    return interleave(jobs, reps)


def bench_app_call(lm, case: Case, reps: int, calls: int) -> dict:
    """The web app's default request: explain() with saliency + IG. Time and RSS over calls."""
    proc = psutil.Process()
    rss, seconds = [], []
    for _ in range(calls):
        start = time.perf_counter()
        whyword.explain(case.text, model=lm, predictions=case.predictions)
        seconds.append(time.perf_counter() - start)
        gc.collect()
        rss.append(proc.memory_info().rss / 2**20)
    timed_runs = seconds[1 : reps + 1] if calls > reps else seconds[1:]
    half = len(rss) // 2
    return {
        "seconds": statistics.median(timed_runs),
        "rss_mb": [round(r, 1) for r in rss],
        "rss_growth_mb_second_half": round(rss[-1] - rss[half], 1),
    }


# ---- output ----


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fmt(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.2f} %"


def print_tables(report: dict) -> str:
    lines = ["### WhyWord methods vs the raw PyTorch bound (seconds, median)", ""]
    lines += [
        "| tokens | method | passes | WhyWord s | raw s | ratio |",
        "|---|---|---|---|---|---|",
    ]
    raw_key = {
        "saliency": "raw:1",
        "input_x_gradient": "raw:1",
        "smoothgrad": "raw:smoothgrad",
        "integrated_gradients": "raw:ig",
        "occlusion": "raw:occlusion",
    }
    for t, res in report.get("methods", {}).items():
        for m in METHODS:
            r, raw = res[m], res[raw_key[m]]["seconds"]
            passes = r["steps"] if r["steps"] is not None else 1
            lines.append(
                f"| {t} | {m} | {passes} | {fmt(r['seconds'])} | {fmt(raw)} | "
                f"{r['seconds'] / raw:.2f}× |"
            )
    n = report["peer_steps"]
    lines += ["", f"### IG at equal steps ({n}), seconds (median) and completeness error", ""]
    lines += ["| tokens | tool | s | vs raw | rel. error |", "|---|---|---|---|---|"]
    for t, res in report.get("peers", {}).items():
        raw = res["raw"]["seconds"]
        for tool in ("whyword_ig_plain", "captum_ig", "captum_llm_layer_ig", "inseq_ig"):
            if tool not in res:
                lines.append(f"| {t} | {tool} | unavailable | | |")
                continue
            r = res[tool]
            lines.append(
                f"| {t} | {tool} | {fmt(r['seconds'])} | {r['seconds'] / raw:.2f}× | "
                f"{pct(r['error'])} |"
            )
        lines.append(f"| {t} | raw bound | {fmt(raw)} | 1.00× | |")
    lines += ["", f"### Time to <= {TARGET_ERROR:.0%} IG error (same F, same baseline)", ""]
    lines += [
        "| tokens | WhyWord s (steps, error) | Captum search s (rungs: error) | speed-up | "
        "Captum's last rung alone | speed-up vs it |",
        "|---|---|---|---|---|---|",
    ]
    searched = {"whyword": 0.0, "captum": 0.0}
    for t, res in report.get("time_to_target", {}).items():
        w = res["whyword_ig_default"]
        ww = f"{fmt(w['seconds'])} ({w['steps']}, {pct(w['error'])})"
        rungs = ", ".join(f"{r['steps']}: {pct(r['error'])}" for r in res["captum_ladder"])
        search = res["captum_search_seconds"]
        searched["whyword"] += w["seconds"]
        searched["captum"] += search
        if res["captum_steps_needed"] is None:
            lines.append(
                f"| {t} | {ww} | > {fmt(search)} ({rungs}; not reached by {res['captum_cap']}) "
                f"| > {search / w['seconds']:.2f}× | — | — |"
            )
            continue
        c = res["captum_ig_enough"]
        lines.append(
            f"| {t} | {ww} | {fmt(search)} ({rungs}) | {search / w['seconds']:.2f}× | "
            f"{fmt(c['seconds'])} | {c['seconds'] / w['seconds']:.2f}× |"
        )
    if searched["whyword"]:
        lines.append(
            f"| all | {fmt(searched['whyword'])} | {fmt(searched['captum'])} | "
            f"{searched['captum'] / searched['whyword']:.2f}× | | |"
        )
    steps_grid = report["steps_grid"] if "steps" in report else []
    if steps_grid:
        lines += ["", f"### IG time vs steps ({report['steps_tokens']} tokens, plain IG)", ""]
        lines += ["| steps | WhyWord s | raw s | ratio | ms/step |", "|---|---|---|---|---|"]
    for n in steps_grid:
        r, raw = report["steps"][f"ig:{n}"]["seconds"], report["steps"][f"raw:{n}"]["seconds"]
        lines.append(f"| {n} | {fmt(r)} | {fmt(raw)} | {r / raw:.2f}× | {1000 * r / n:.1f} |")
    app = report.get("app")
    if app:
        lines += [
            "",
            f"### App default request (saliency + IG, {report['app_tokens']} tokens)",
            "",
            f"- explain() median: {fmt(app['seconds'])} s",
            f"- RSS over {len(app['rss_mb'])} calls (MB): {app['rss_mb'][0]} → "
            f"{app['rss_mb'][-1]} (second half: {app['rss_growth_mb_second_half']:+} MB)",
        ]
    text = "\n".join(lines)
    print(text)
    return text


def environment() -> dict:
    import captum
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "captum": captum.__version__,
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "machine": platform.machine(),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 tokens only, no steps table")
    parser.add_argument("--reps", type=int, default=5, help="timed rounds after the warm-up")
    parser.add_argument("--tokens", default="", help="prompt sizes, e.g. 5,12 (default: all)")
    parser.add_argument(
        "--sections",
        default="methods,peers,time_to_target,steps,app",
        help="which tables to measure (default: all)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.manual_seed(0)
    lm = whyword.load_model()
    sizes = [12] if args.quick else list(PROMPTS)
    if args.tokens:
        sizes = [int(t) for t in args.tokens.split(",")]
    cases = {t: build_case(lm, PROMPTS[t]) for t in sizes}
    inseq_model = load_inseq(lm)
    peer_steps = ExplainOptions().n_steps
    cap = CAPTUM_CAP
    steps_grid = [16, 32, 64] if args.quick else [16, 32, 64, 128]
    report: dict = {
        "env": environment(),
        "quick": args.quick,
        "reps": args.reps,
        "peer_steps": peer_steps,
        "steps_grid": steps_grid,
        "tokens": {t: c.tokens for t, c in cases.items()},
        "options": ExplainOptions().to_dict(),
        "inseq": inseq_model is not None,
    }
    started = time.perf_counter()
    RESULTS.mkdir(exist_ok=True)
    name = f"bench-{'quick-' if args.quick else ''}{time.strftime('%Y%m%d-%H%M%S')}.json"
    sections = {
        "methods": lambda c: bench_methods(lm, c, args.reps),
        "peers": lambda c: bench_peers(lm, c, inseq_model, peer_steps, args.reps),
        "time_to_target": lambda c: bench_time_to_target(lm, c, args.reps, cap),
    }
    wanted = set(args.sections.split(","))
    sections = {k: v for k, v in sections.items() if k in wanted}
    with torch.enable_grad():
        for section, run in sections.items():
            report[section] = {}
            for t, case in cases.items():
                log(f"{section}: {case.tokens} tokens ({time.perf_counter() - started:.0f} s)")
                report[section][t] = run(case)
                (RESULTS / name).write_text(json.dumps(report, indent=1, default=str))
        if (
            not args.quick and 12 in cases and "steps" in wanted
        ):  # the scaling table: only in the full run
            log(f"steps ({time.perf_counter() - started:.0f} s)")
            report["steps_tokens"] = cases[12].tokens
            report["steps"] = bench_steps(lm, cases[12], steps_grid, args.reps)
    if "app" in wanted:
        log(f"app ({time.perf_counter() - started:.0f} s)")
        app_case = cases.get(12, next(iter(cases.values())))
        report["app_tokens"] = app_case.tokens
        report["app"] = bench_app_call(lm, app_case, args.reps, calls=8 if args.quick else 20)
    report["wall_seconds"] = time.perf_counter() - started
    report["markdown"] = print_tables(report)
    (RESULTS / name).write_text(json.dumps(report, indent=1, default=str))
    print(f"\nwall {report['wall_seconds']:.0f} s; JSON: {RESULTS / name}")
    return report


if __name__ == "__main__":
    main()
