"""Speed ideas measured one by one, each against its alternative in the same run (interleaved).

    HF_HUB_OFFLINE=1 python benchmarks/calibrate/ideas.py [idea ...] [--tokens=5,12,32,64]

Ideas: keep (logits_to_keep), attention (sdpa vs eager), threads, batch, endpoints (edge
forward cache vs Captum's per-interval deltas), adaptive (interval layout, grading, stopping
rule), prefix (held first token cached vs fed every row), compile (torch.compile), accuracy
(per-token error of smaller first passes against a tight reference), calls (fixed and per-row
cost of one batched call).
`--tokens=heldout` runs on 12 other prompts instead of the benchmark's. Results are printed
and written to benchmarks/results/ideas-*.json.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import torch

sys.path.insert(0, str(Path(__file__).parents[1]))  # bench.py, one level up
import bench  # noqa: E402

import whyword  # noqa: E402
from whyword.attr import IGParams  # noqa: E402
from whyword.attr.integrated_gradients import integrated_gradients  # noqa: E402
from whyword.runtime.options import ExplainOptions  # noqa: E402

REPS = 5


def fwd_bwd(lm, x: torch.Tensor, target: int, keep, model=None) -> None:
    """One batched forward+backward with the given logits_to_keep (None: all logits)."""
    e = x.clone().requires_grad_()  # (B, T, H)
    mask = torch.ones(e.shape[:2], dtype=torch.long)  # (B, T)
    kwargs = {} if keep is None else {"logits_to_keep": keep}
    model = lm.model if model is None else model
    logits = model(inputs_embeds=e, attention_mask=mask, use_cache=False, **kwargs).logits
    lp = torch.log_softmax(logits[:, -1].float(), dim=-1)[:, target]  # (B,)
    torch.autograd.grad(lp.sum(), e)


def idea_keep(lm, cases) -> dict:
    out = {}
    for t, case in cases.items():
        x = case.problem.inputs.detach().expand(16, -1, -1)  # (16, T, H)
        last = torch.tensor([case.tokens - 1])
        jobs = {
            name: bench.timed(lambda k=k, x=x, c=case: fwd_bwd(lm, x, c.target_id, k))
            for name, k in (("all_logits", None), ("keep_tensor", last), ("keep_int", 1))
        }
        out[t] = {k: v["seconds"] for k, v in bench.interleave(jobs, REPS).items()}
    return out


def idea_attention(lm, cases) -> dict:
    out = {}
    for t, case in cases.items():
        x = case.problem.inputs.detach().expand(16, -1, -1)  # (16, T, H)

        def run(impl: str, x: torch.Tensor = x, target: int = case.target_id) -> None:
            lm.model.set_attn_implementation(impl)
            fwd_bwd(lm, x, target, 1)

        jobs = {impl: bench.timed(lambda i=impl: run(i)) for impl in ("sdpa", "eager")}
        out[t] = {k: v["seconds"] for k, v in bench.interleave(jobs, REPS).items()}
        lm.model.set_attn_implementation("sdpa")
    return out


def idea_threads(lm, cases) -> dict:
    out = {}
    for t, case in cases.items():
        x = case.problem.inputs.detach().expand(16, -1, -1)  # (16, T, H)

        def run(n: int, x: torch.Tensor = x, target: int = case.target_id) -> None:
            torch.set_num_threads(n)
            fwd_bwd(lm, x, target, 1)

        jobs = {f"threads={n}": bench.timed(lambda n=n: run(n)) for n in (1, 2)}
        out[t] = {k: v["seconds"] for k, v in bench.interleave(jobs, REPS).items()}
        torch.set_num_threads(2)
    return out


def idea_batch(lm, cases) -> dict:
    """Seconds per row of fwd+bwd for 64 rows at several batch sizes."""
    out = {}
    for t, case in cases.items():
        jobs = {
            f"batch={b}": bench.timed(lambda b=b, c=case: bench.raw_gradients(lm, c, 64, b))
            for b in (4, 8, 16, 32, 64)
        }
        out[t] = {k: v["seconds"] / 64 for k, v in bench.interleave(jobs, REPS).items()}
    return out


def integrate(problem, opts: ExplainOptions):
    """One-row IG as these experiments read it: scores (T,) and the old `extras` names."""
    out = integrated_gradients(problem, IGParams.from_options(opts))
    c = out.completeness[0]
    extras = {"steps": c.steps, "relative_error": c.relative_error, "f_input": c.f_input}
    return SimpleNamespace(scores=out.scores[0], extras=extras)


def _args(problem, n: int):
    """F's extra arguments for n copies of row 0: (mask, rows)."""
    return problem.attention_mask[:1].expand(n, -1), problem.rows[:1].expand(n)


def _old_integrate(rev: str = "ad9fca9"):
    """whyword/integrated.py at `rev` (ad9fca9: Captum's convergence delta per interval;
    d6e9fec: equal intervals of 8 nodes, stop at Σ|δ_i| ≤ tolerance)."""
    root = Path(__file__).parents[2]
    source = subprocess.run(
        ["git", "show", f"{rev}:whyword/integrated.py"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "AttributionProblem" in source:  # written for the batch-1 core before core v2
        raise SystemExit(
            f"This experiment runs whyword/integrated.py at {rev}, which needs the batch-1 "
            f"core: run it on a checkout of {rev}."
        )
    spec = importlib.util.spec_from_loader("old_integrated", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(source, module.__dict__)
    return module.integrate


def _counting(problem):
    """The problem with a forward that counts the rows it is called on, with/without grad."""
    counts = {"grad_rows": 0, "nograd_rows": 0}
    inner = problem.forward

    def forward(embeds, mask, rows):
        counts["grad_rows" if torch.is_grad_enabled() else "nograd_rows"] += embeds.shape[0]
        return inner(embeds, mask, rows)

    from dataclasses import replace

    return replace(problem, forward=forward), counts


def idea_endpoints(lm, cases) -> dict:
    old = _old_integrate()
    opts = ExplainOptions()
    out = {}
    for t, case in cases.items():
        rows = {}
        for name, fn in (("captum_deltas", old), ("edge_cache", integrate)):
            problem, counts = _counting(case.problem)
            res = fn(problem, opts)
            rows[name] = {
                **counts,
                "steps": res.extras["steps"],
                "error": res.extras["relative_error"],
            }
        jobs = {
            name: bench.timed(lambda fn=fn, p=case.problem: fn(p, opts))
            for name, fn in (("captum_deltas", old), ("edge_cache", integrate))
        }
        for name, r in bench.interleave(jobs, REPS).items():
            rows[name]["seconds"] = r["seconds"]
        out[t] = rows
    return out


ADAPTIVE = {  # (n_steps, nodes_per_interval, ig_grading), all stop at |Σδ_i| ≤ 5 %
    "graded t^3, 8 x 4 (default)": (32, 4, 3.0),
    "graded t^3, 4 x 8": (32, 8, 3.0),
    "graded t^3, 16 x 2": (32, 2, 3.0),
    "graded t^2, 8 x 4": (32, 4, 2.0),
    "graded t^4, 8 x 4": (32, 4, 4.0),
    "equal, 8 x 4": (32, 4, 1.0),
    "equal, 4 x 8": (32, 8, 1.0),
}
PLAIN = (32, 64, 128)  # fixed Gauss–Legendre steps (Captum's IG on the same path)
HELDOUT = (  # prompts never used to choose the defaults
    "To be or not to",
    "The chemical symbol for gold is",
    "She poured the milk into a glass and handed it to her",
    "The quick brown fox jumps over the lazy",
    "When water is heated to one hundred degrees Celsius, it begins to",
    "My favourite programming language is",
    "The doctor told the nurse that he would be late because",
    "Two plus two equals",
    "In 1492, Columbus sailed across the Atlantic Ocean and reached the",
    "The weather forecast for tomorrow says it will be sunny with a high of",
    "He opened the fridge, took out an egg, and cracked it into a",
    "Once upon a time, in a kingdom far away, there lived a young",
)


def idea_adaptive(lm, cases) -> dict:
    """Steps and error of adaptive IG layouts, the previous default and plain fixed steps."""
    previous = _old_integrate("d6e9fec")
    out = {}
    for t, case in cases.items():
        rows = {}
        for name, (n, nodes, grading) in ADAPTIVE.items():
            opts = ExplainOptions(n_steps=n, nodes_per_interval=nodes, ig_grading=grading)
            res = integrate(case.problem, opts).extras
            rows[name] = {"steps": res["steps"], "error": res["relative_error"]}
        res = previous(case.problem, ExplainOptions(nodes_per_interval=8, internal_batch_size=16))
        rows["previous: equal 4 x 8, stop at Σ|δ_i|"] = {
            "steps": res.extras["steps"],
            "error": res.extras["relative_error"],
        }
        for n in PLAIN:
            res = integrate(case.problem, ExplainOptions(n_steps=n, adaptive=False)).extras
            rows[f"plain {n}"] = {"steps": n, "error": res["relative_error"]}
        out[t] = rows
        print(t, json.dumps(rows), flush=True)
    return out


FIRST_PASSES = {  # (n_steps, nodes_per_interval, ig_grading, ig_tolerance)
    "graded t^3, 8 x 4 (default)": (32, 4, 3.0, 0.05),
    "graded t^3, 6 x 4": (24, 4, 3.0, 0.05),
    "graded t^3, 12 x 2": (24, 2, 3.0, 0.05),
    "graded t^3, 8 x 2": (16, 2, 3.0, 0.05),
    "graded t^2, 4 x 4": (16, 4, 2.0, 0.05),
    "default, tolerance 2 %": (32, 4, 3.0, 0.02),
    "default, tolerance 1 %": (32, 4, 3.0, 0.01),
}
REFERENCE = ExplainOptions(n_steps=64, ig_tolerance=0.002, max_steps=4096)
REFERENCE_CHECK = ExplainOptions(n_steps=128, ig_tolerance=0.0005, max_steps=4096)


def _l1(scores: torch.Tensor, ref: torch.Tensor) -> float:
    return float((scores - ref).abs().sum() / ref.abs().sum())


def idea_accuracy(lm, cases) -> dict:
    """Is |completeness error| <= 5 % enough? Steps, completeness error and the per-token
    error ||s - s_ref||_1 / ||s_ref||_1 against a tight adaptive reference (0.2 %; its own
    noise: the distance to a 0.05 % reference) for first passes of 16-32 steps, the default
    at tighter tolerances, and where Captum's doubling search stops."""
    out = {}
    for t, case in cases.items():
        ref = integrate(case.problem, REFERENCE)
        check = integrate(case.problem, REFERENCE_CHECK)
        rows = {"reference": {"steps": ref.extras["steps"], "noise": _l1(ref.scores, check.scores)}}
        for name, (n, nodes, grading, tol) in FIRST_PASSES.items():
            opts = ExplainOptions(
                n_steps=n, nodes_per_interval=nodes, ig_grading=grading, ig_tolerance=tol
            )
            res = integrate(case.problem, opts)
            rows[name] = {
                "steps": res.extras["steps"],
                "error": res.extras["relative_error"],
                "per_token_error": _l1(res.scores, ref.scores),
            }
        rows["captum search"] = _captum_search_accuracy(lm, case, ref.scores)
        out[t] = rows
        print(t, json.dumps(rows), flush=True)
    return out


def _captum_search_accuracy(lm, case, ref: torch.Tensor) -> dict:
    """Where bench.py's time-to-target search stops (Captum IG, steps doubled until <= 5 %,
    or its cap), scored token by token: plain Gauss–Legendre IG on the same path."""
    batch = bench.rows_per_batch(lm, case.tokens)
    needed, ladder = bench.captum_steps_needed(lm, case, batch, bench.CAPTUM_CAP)
    n = needed or ladder[-1]["steps"]
    res = integrate(case.problem, ExplainOptions(n_steps=n, adaptive=False))
    return {
        "steps": n,
        "error": res.extras["relative_error"],
        "per_token_error": _l1(res.scores, ref),
    }


def idea_calls(lm, cases) -> dict:
    """Cost of one path call by rows: a fixed part (the weights stream through once per call)
    and a part per row, for forward+backward and for forward only (seconds, median)."""
    out = {}
    for t, case in cases.items():
        problem, _ = case.problem.path_problem()
        x = problem.inputs.detach()  # (1, T', H)

        def grad(n: int, p=problem, x=x) -> None:
            e = x.expand(n, -1, -1).clone().requires_grad_()  # (n, T', H)
            torch.autograd.grad(p.forward(e, *_args(p, n)).sum(), e)

        def value(n: int, p=problem, x=x) -> None:
            with torch.no_grad():
                p.forward(x.expand(n, -1, -1), *_args(p, n))

        jobs = {
            f"{kind}:{n}": bench.timed(lambda fn=fn, n=n: fn(n))
            for kind, fn in (("grad", grad), ("value", value))
            for n in (1, 8, 32)
        }
        out[t] = {k: v["seconds"] for k, v in bench.interleave(jobs, REPS).items()}
    return out


def idea_prefix(lm, cases) -> dict:
    """IG with the held first token's keys/values cached once vs fed again in every row."""
    from dataclasses import replace

    opts = ExplainOptions(adaptive=False, n_steps=32)
    out = {}
    for t, case in cases.items():
        full = replace(case.problem, path_forward=None)
        jobs = {
            "cached": bench.timed(lambda p=case.problem: integrate(p, opts)),
            "every_row": bench.timed(lambda p=full: integrate(p, opts)),
        }
        out[t] = {k: v["seconds"] for k, v in bench.interleave(jobs, REPS).items()}
    return out


def idea_compile(lm, cases) -> dict:
    """torch.compile of the model: compile time and steady fwd+bwd time at one shape."""
    case = cases[min(cases, key=lambda t: abs(t - 12))]
    x = case.problem.inputs.detach().expand(16, -1, -1)  # (16, T, H)
    compiled = torch.compile(lm.model)  # a wrapper module: lm.model itself stays eager
    start = time.perf_counter()
    fwd_bwd(lm, x, case.target_id, 1, model=compiled)
    compile_s = time.perf_counter() - start
    jobs = {
        "compiled": bench.timed(lambda: fwd_bwd(lm, x, case.target_id, 1, model=compiled)),
        "eager": bench.timed(lambda: fwd_bwd(lm, x, case.target_id, 1)),
    }
    times = {k: v["seconds"] for k, v in bench.interleave(jobs, REPS).items()}
    return {"tokens": case.tokens, "compile_seconds": compile_s, **times}


IDEAS = {
    "keep": idea_keep,
    "attention": idea_attention,
    "threads": idea_threads,
    "batch": idea_batch,
    "endpoints": idea_endpoints,
    "adaptive": idea_adaptive,
    "prefix": idea_prefix,
    "accuracy": idea_accuracy,
    "calls": idea_calls,
    "compile": idea_compile,
}


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--tokens=")]
    sizes = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--tokens=")]
    wanted = args or [i for i in IDEAS if i not in ("compile", "accuracy")]
    lm = whyword.load_model()
    if sizes and sizes[0] == "heldout":
        cases = {f"h{i}": bench.build_case(lm, text) for i, text in enumerate(HELDOUT)}
    else:
        sizes = [int(t) for t in sizes[0].split(",")] if sizes else list(bench.PROMPTS)
        cases = {t: bench.build_case(lm, bench.PROMPTS[t]) for t in sizes}
    results = {"env": bench.environment()}
    with torch.enable_grad():
        for name in wanted:
            start = time.perf_counter()
            results[name] = IDEAS[name](lm, cases)
            print(name, f"({time.perf_counter() - start:.0f} s)")
            print(json.dumps(results[name], indent=1, default=str), flush=True)
    bench.RESULTS.mkdir(exist_ok=True)
    path = bench.RESULTS / f"ideas-{'-'.join(wanted)}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=1, default=str))
    print("JSON:", path)


if __name__ == "__main__":
    main()
