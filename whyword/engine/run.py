"""The one engine: prepared jobs (input ids + output rows) -> every method -> AttributionMatrix.

A single request is a batch of one. `explain`, `attribute`, `explain_many`, the scheduler, the
Ray worker, the Sequence and Evidence views all reach the model through `run_matrices`:
- jobs whose methods all share calls (`Method.shares_calls`) and score no infill pool go into
  one Problem, right-padded to the longest input (whyword/engine/problems.py): each method runs once
  over all their rows; any other job runs alone;
- the methods that read only ∂F/∂x at the input (`Method.reads_gradient`) get it from one
  forward + backward (or from the pass that read the predictions: `primal`);
- the rows' values, their target log-probabilities and the faithfulness curves are computed
  here once for every route.
`computing` is the one place a request enters the model: its lock, gradients on, and its
precision (bf16 autocast or fp32), so every route computes in the same arithmetic.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import torch

from whyword.attr import Problem
from whyword.attr.objectives import value_objective
from whyword.attr.problem import input_gradients
from whyword.engine.forward import RowSpec, matrix_scorer
from whyword.engine.problems import MatrixJob, merged_problem
from whyword.models.load import LoadedModel
from whyword.results.matrix import AttributionMatrix, MethodScores, OutputRow, Stage
from whyword.results.methods import get_method, method_names, shares_calls
from whyword.runtime.options import ExplainOptions
from whyword.runtime.precision import autocast, curves
from whyword.text.tokens import make_tokens, special_ids, token_text

__all__ = ["MatrixJob", "computing", "run_matrices"]

HELD_NOTE = (
    "The IG baseline holds {what} at the real embedding; the other tokens start from the "
    "{baseline} embedding. Held tokens get an IG score of 0."
)


@contextlib.contextmanager
def computing(lm: LoadedModel, opts: ExplainOptions) -> Iterator[str]:
    """Hold the model, turn gradients on and enter the request's precision; yields "fp32" or
    "bf16". Every route (library, scheduler, Ray worker) computes inside this, and only here."""
    with lm.lock, torch.enable_grad(), autocast(opts.precision, lm.device) as chosen:
        yield chosen


def run_matrices(
    lm: LoadedModel,
    jobs: Sequence[MatrixJob],
    methods: Sequence[str],
    opts: ExplainOptions,
    primal: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> list[AttributionMatrix]:
    """One matrix per job (call inside `computing`). `primal`: F (R,) and ∂F/∂x (R, W, H) of
    every job's rows, in order, from the pass that read the predictions (whyword/engine/onepass.py)."""
    methods = method_names(methods)
    jobs = list(jobs)
    if len(jobs) > 1 and (not shares_calls(methods) or any(job.pooled for job in jobs)):
        out, at = [], 0
        for job in jobs:  # alone: a method that refines per input, or an infill pool
            n = len(job.rows)
            part = None if primal is None else _primal_part(primal, slice(at, at + n), job)
            out += run_matrices(lm, [job], methods, opts, part)
            at += n
        return out
    return _together(lm, jobs, methods, opts, primal)


def _primal_part(primal, rows: slice, job: MatrixJob):
    return primal[0][rows], primal[1][rows, : len(job.ids)]  # (n,), (n, T, H)


def _together(lm, jobs: list[MatrixJob], methods, opts: ExplainOptions, primal):
    clock = time.perf_counter()
    holds = any(get_method(m).holds_anchors for m in methods)
    problem, spans = merged_problem(lm, jobs, opts, holds=holds, primal=primal)
    width = problem.n_tokens
    contexts = [tuple(r.in_context() for r in job.rows) for job in jobs]
    padded = [c + (False,) * (width - len(c)) for ctx in contexts for c in ctx]
    context = torch.tensor(padded, device=problem.inputs.device)  # (R, W)
    timings = {"setup": time.perf_counter() - clock}
    first_pass = 0.0
    if problem.primal is None and any(get_method(m).reads_gradient for m in methods):
        start = time.perf_counter()  # one forward + backward for every gradient reader
        problem = replace(problem, primal=input_gradients(problem))  # (R,), (R, W, H)
        first_pass = time.perf_counter() - start
    outputs, found = {}, None
    for name in methods:
        method = get_method(name)
        start = time.perf_counter()
        staged = _observed(problem, name, context, opts, start) if len(jobs) == 1 else problem
        out = method.run(staged, method.params_for(opts))
        timings[name] = time.perf_counter() - start
        if method.reads_gradient:
            timings[name] += first_pass
            first_pass = 0.0  # counted once, with the first method that read it
        outputs[name] = out
        found = found if found is not None else out.values
    cells = {name: _cells(out, context) for name, out in outputs.items()}  # (R, W) each
    clock_values = time.perf_counter()
    if problem.primal is not None:
        values = problem.primal[0].detach().cpu().tolist()  # F came with the gradient
    elif found is not None:
        values = found.detach().cpu().tolist()
    else:
        with torch.no_grad():
            values = _batched(problem.forward, problem)  # (R,) floats
    values = [float(v) for v in values]
    target_lp = _target_log_probs(lm, jobs, problem, values)
    timings["setup"] += time.perf_counter() - clock_values
    faith = _faithfulness(problem, spans, context, cells, opts, timings)
    timings["total"] = time.perf_counter() - clock
    done = _Computed(problem, methods, outputs, cells, faith, values, target_lp, timings, opts)
    return [
        done.matrix(lm, job, span, ctx)
        for job, span, ctx in zip(jobs, spans, contexts, strict=True)
    ]


@dataclass(frozen=True, eq=False)
class _Computed:
    """What one run computed over all its jobs' rows; `matrix` cuts out one job's part."""

    problem: Problem
    methods: tuple[str, ...]
    outputs: dict  # name -> MethodOutput over all rows
    cells: dict  # name -> (R, W) double scores on the host, NaN out of context
    faith: dict  # name -> per row Faithfulness | None (empty: not asked for)
    values: list[float]  # (R,) F at the real inputs
    target_lp: list[float]  # (R,) log p(target)
    timings: dict
    opts: ExplainOptions

    def matrix(self, lm: LoadedModel, job: MatrixJob, span: slice, context) -> AttributionMatrix:
        t = len(job.ids)
        scored = tuple(
            replace(
                _scores(name, out, self.cells[name], span, t),
                params=get_method(name).params_for(self.opts),
                seconds=self.timings[name],
                faithfulness=self.faith[name][span] if self.faith else None,
            )
            for name, out in self.outputs.items()
        )
        rows = tuple(
            _output_row(lm, row, label, v, lp)
            for row, label, v, lp in zip(
                job.rows, job.labels, self.values[span], self.target_lp[span], strict=True
            )
        )
        held = _held(self.problem, span, t, self.methods)
        return AttributionMatrix(
            model=lm.name,
            kind=lm.kind,
            tokens=make_tokens(lm.tokenizer, job.ids),
            outputs=rows,
            methods=scored,
            context=context,
            held=held,
            timings=dict(self.timings),
            notes=job.notes + _held_note(lm, job, held, self.problem.baseline_name),
        )


def _observed(problem: Problem, name: str, context, opts: ExplainOptions, start: float):
    """With `opts.on_stage`, a refining method's scores so far go to it as `Stage`s."""
    if opts.on_stage is None:
        return problem
    method = get_method(name)
    params = method.params_for(opts)
    tolerance = getattr(params, "tolerance", None)
    flags = tuple(tuple(bool(c) for c in row) for row in context.tolist())
    held = _held(problem, slice(0, problem.n_rows), problem.n_tokens, (name,))

    def observe(out, final: bool) -> None:
        seconds = time.perf_counter() - start
        scores = _scores(name, out, _cells(out, context), slice(None), problem.n_tokens)
        scores = replace(scores, params=params, seconds=seconds)
        opts.on_stage(Stage(scores, flags, final, tolerance, held))

    return replace(problem, observe=observe)


def _cells(out, context: torch.Tensor) -> torch.Tensor:
    """A method's scores on the host, NaN where a row cannot depend on the token (out of its
    context, or padding)."""
    cells = out.scores.detach().double().cpu()  # (R, W)
    cells[~context.cpu()] = math.nan
    return cells


def _scores(name: str, out, cells: torch.Tensor, span: slice, t: int) -> MethodScores:
    """One job's part of a method's output (params, seconds and curves: the caller's)."""
    method = get_method(name)
    return MethodScores(
        method=name,
        signed=method.signed,
        scores=tuple(_floats(row[:t]) for row in cells[span]),
        params=None,
        seconds=0.0,
        steps=out.steps_of(span),
        completeness=out.completeness[span] if out.completeness is not None else None,
        stdev=out.stdev,
    )


def _floats(row: torch.Tensor) -> tuple[float, ...]:
    """A row of cells as floats; every NaN is `math.nan` itself, so rows compare equal."""
    return tuple(math.nan if v != v else v for v in row.tolist())


def _held(problem: Problem, span: slice, t: int, methods) -> tuple[int, ...]:
    """The tokens a method that holds anchors kept at their real embedding (its first row's)."""
    if not any(get_method(m).holds_anchors for m in methods):
        return ()
    return tuple(int(i) for i in problem.anchors[span.start, :t].nonzero().flatten().tolist())


def _held_note(lm, job: MatrixJob, held, baseline: str) -> tuple[str, ...]:
    if not held:
        return ()
    what = []
    if lm.kind == "causal" and 0 in held:
        what.append("the first token (an attention sink)")
    if any(i in special_ids(lm.tokenizer) for i in job.ids):
        what.append("special tokens")
    if job.held:
        what.append("the chat template's tokens")
    return (HELD_NOTE.format(what=" and ".join(what), baseline=baseline),)


def _faithfulness(problem: Problem, spans, context, cells, opts, timings) -> dict:
    """Each method's deletion / insertion curves, every job's rows in the same passes; each
    job's random orders start from the seed as they do alone (whyword/engine/faithfulness.py)."""
    if not opts.faithfulness:
        return {}
    from whyword.engine import faithfulness as faith

    clock = time.perf_counter()
    removable = faith.removable(problem, context)  # (R, W): held tokens stay
    restart = frozenset(span.start for span in spans)
    chosen = curves(opts.precision, problem.inputs.device)
    found = faith.all_curves(problem, removable, cells, restart=restart, precision=chosen)
    timings["faithfulness"] = time.perf_counter() - clock
    return found


def _target_log_probs(lm, jobs, problem: Problem, values: list[float]) -> list[float]:
    """log p(target) per row: its value where the row explains that already, else one pass."""
    wants = [value_objective(job.value_objective) for job in jobs]
    rows = [(r, want) for job, want in zip(jobs, wants, strict=True) for r in job.rows]
    if all(r.objective.name == want.name for r, want in rows):
        return values  # the value already is log p(target)
    plain = [
        RowSpec(r.target, want, r.target_ids, pool=r.pool if want.needs_pool else ())
        for r, want in rows
    ]
    with torch.no_grad():
        return _batched(matrix_scorer(lm, plain, padded=len(jobs) > 1), problem)


def _batched(forward, problem: Problem) -> list[float]:
    out = []
    for _, chunk in problem.chunks(grad=False):
        out += [float(v) for v in forward(chunk.inputs.detach(), *chunk.args())]
    return out


def _output_row(lm, row: RowSpec, label: str, value: float, target_lp: float) -> OutputRow:
    def text(ids):
        return "".join(token_text(lm.tokenizer, i) for i in ids)

    return OutputRow(
        label=label,
        position=row.target.scored[0][0],
        target=text(row.target_ids),
        target_ids=row.target_ids,
        foil=text(row.foil_ids) if row.foil_ids else None,
        foil_ids=row.foil_ids,
        objective=row.objective.name,
        formula=row.objective.formula,
        value=value,
        target_log_prob=target_lp,
    )
