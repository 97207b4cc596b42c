"""Integrated gradients that check their own completeness, interval by interval, row by row.

F is known exactly at every point of the straight path x(α) = x' + α(x − x'), so on each
sub-interval [a, b] the quadrature of the gradients can be checked against F(b) − F(a).
Batch rows are (output row, sub-interval) items; a row whose completeness error
|Σ δ_i| > tolerance · |F(x) − F(x')| has the intervals holding most of its error halved and
recomputed, until every row meets the tolerance or its step cap.

The sub-intervals are graded towards the baseline: their edges sit at α = t**grading for
equally spaced t, and halving splits them in t. On causal LMs F wiggles near the baseline
(α ≲ 0.05, where the moving embeddings are tiny next to the held first token's residual
stream) and is smooth after, so nodes are needed there: on 12 held-out prompts, graded
edges with 4 nodes per interval reached the tolerance in 536 steps, equal ones in 616, and
equal intervals of 8 nodes stopping on Σ|δ_i| in 1008 (benchmarks/RESULTS.md). The path and
the integral are the same straight-line IG; only where the nodes sit changes.

Captum computes the gradients (Gauss–Legendre nodes on each interval). F at the inner interval
edges is needed only when the first pass misses the tolerance; it is then computed once per
edge and cached. The returned convergence delta does not use that cache: it is the total of
the scores against the two independent end-point forwards F(x) and F(x').

A caller that shows results early gets the scores so far (`Problem.report`): after the first
pass and after each round of halving, from numbers already computed (no extra model call).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from captum.attr import IntegratedGradients

from whyword.attr.problem import Problem
from whyword.attr.registry import Completeness, Method, MethodOutput
from whyword.results.params import IGParams

Interval = tuple[float, float]  # (t_start, t_end) in the graded parameter: α = t**grading
Item = tuple[int, Interval]  # (row, interval)


def integrated_gradients(problem: Problem, params: IGParams) -> MethodOutput:
    problem, held = problem.path_problem()  # the held first token runs once, not per step
    n = problem.n_rows
    ends = _path_values(problem, [(r, 1.0) for r in range(n)] + [(r, 0.0) for r in range(n)])
    f_x, f_0 = ends[:n], ends[n:]
    gaps = [a - b for a, b in zip(f_x, f_0, strict=True)]
    edges: dict[tuple[int, float], float] = {}  # F at path points already evaluated
    for r in range(n):
        edges[(r, 1.0)], edges[(r, 0.0)] = f_x[r], f_0[r]
    first, nodes = _first_intervals(params)
    grading = params.grading
    items: list[Item] = [(r, iv) for r in range(n) for iv in first]
    scores = _integrate(problem, items, nodes, grading)  # (I, T)
    steps = [len(first) * nodes] * n
    checks: dict[int, torch.Tensor] = {}  # row -> its intervals' checks, once it refined
    while params.adaptive:
        totals = _row_totals(items, scores, n)  # (R, T)
        todo = [
            r
            for r in range(n)
            if abs(float(totals[r].double().sum()) - gaps[r]) > _tol(params, gaps[r])
            and steps[r] + 2 * nodes <= params.max_steps
        ]
        if not todo:
            break
        if problem.observe is not None:  # the scores so far, before this round refines them
            problem.report(_output(totals, held, f_x, f_0, {}, steps, items), final=False)
        halves: list[Item] = []
        drop: set[int] = set()
        _fill(problem, [it for it in items if it[0] in set(todo)], grading, edges)  # one call
        for r in todo:
            mine = [i for i, (row, _) in enumerate(items) if row == r]
            deltas = _checks(problem, [items[i] for i in mine], grading, scores[mine], edges)
            budget = (params.max_steps - steps[r]) // (2 * nodes)
            for w in _to_refine(deltas, budget):
                drop.add(mine[w])
                halves += [(r, h) for h in _halve(items[mine[w]][1])]
                steps[r] += 2 * nodes
        new = _integrate(problem, halves, nodes, grading)  # (2W, T)
        keep = [i for i in range(len(items)) if i not in drop]
        items = [items[i] for i in keep] + halves
        scores = torch.cat([scores[keep], new])  # (I', T)
        checks.update({r: torch.empty(0) for r in todo})
    _fill(problem, [it for it in items if it[0] in checks], grading, edges)  # the new midpoints
    for r in checks:  # refined rows: the checks of their final intervals
        mine = [i for i, (row, _) in enumerate(items) if row == r]
        checks[r] = _checks(problem, [items[i] for i in mine], grading, scores[mine], edges)
    result = _output(_row_totals(items, scores, n), held, f_x, f_0, checks, steps, items)
    problem.report(result, final=True)
    return result


def _output(totals, held: int, f_x, f_0, checks: dict, steps, items) -> MethodOutput:
    """The rows' scores with the held tokens' zeros in front, and each row's completeness."""
    n = totals.shape[0]
    out = torch.cat([totals.new_zeros(n, held), totals], dim=1)  # (R, T+held): held score 0
    report = tuple(
        _completeness(out[r], f_x[r], f_0[r], checks.get(r), steps[r], _count(items, r))
        for r in range(n)
    )
    return MethodOutput(out, steps=max(steps), completeness=report)


def _completeness(row, f_x, f_0, checks, steps, intervals) -> Completeness:
    gap = f_x - f_0
    delta = float(row.double().sum()) - gap  # exact: scores against the end-point forwards
    ok = abs(gap) > 1e-9
    return Completeness(
        f_input=f_x,
        f_baseline=f_0,
        delta=delta,
        relative_error=abs(delta) / abs(gap) if ok else None,
        error_bound=float(checks.abs().sum()) / abs(gap) if ok and checks is not None else None,
        steps=steps,
        intervals=intervals,
    )


def _tol(params: IGParams, gap: float) -> float:
    return params.tolerance * max(abs(gap), 1e-6)


def _count(items: list[Item], row: int) -> int:
    return sum(1 for r, _ in items if r == row)


def _row_totals(items: list[Item], scores: torch.Tensor, n: int) -> torch.Tensor:
    index = torch.tensor([r for r, _ in items], device=scores.device)  # (I,)
    return scores.new_zeros(n, scores.shape[1]).index_add_(0, index, scores)  # (R, T)


def _first_intervals(params: IGParams) -> tuple[list[Interval], int]:
    """Sub-intervals (equal in t) covering n_steps with `nodes_per_interval` nodes each
    (adaptive), or one interval with all n_steps nodes (plain Gauss–Legendre IG, as Captum's)."""
    if not params.adaptive:
        return [(0.0, 1.0)], params.n_steps
    nodes = max(1, min(params.nodes_per_interval, params.n_steps))
    segments = max(1, params.n_steps // nodes)
    edges = torch.linspace(0.0, 1.0, segments + 1, device="cpu").tolist()  # host bookkeeping
    return list(zip(edges[:-1], edges[1:], strict=True)), nodes


def _path_values(problem: Problem, points: Sequence[tuple[int, float]]) -> list[float]:
    """F(x'_r + α(x_r − x'_r)) for each (row, α), batched forwards without gradients."""
    x, x0 = problem.inputs.detach(), problem.baseline.detach()  # (R, T, H)
    out: list[float] = []
    size = problem.call_rows(grad=False)
    for start in range(0, len(points), size):
        part = points[start : start + size]
        rows = torch.tensor([r for r, _ in part], device=x.device)  # (A,)
        a = torch.tensor([al for _, al in part], dtype=x.dtype, device=x.device)  # (A,)
        a = a.view(-1, 1, 1)  # (A, 1, 1)
        with torch.no_grad():
            mask, row_ids = problem.args(rows)  # (A, T), (A,)
            values = problem.forward(x0[rows] + a * (x[rows] - x0[rows]), mask, row_ids)  # (A,)
        out += [float(v) for v in values]
    return out


def _integrate(problem: Problem, items: list[Item], nodes: int, grading: float) -> torch.Tensor:
    """Gauss–Legendre IG (in α) on each item's sub-interval, items in budget-sized groups."""
    x, x0 = problem.inputs, problem.baseline  # (R, T, H)
    per_call = max(2, problem.call_rows())  # Captum takes at least 2 path points per example
    group = max(1, per_call // nodes)
    parts = []
    for start in range(0, len(items), group):
        part = items[start : start + group]
        rows = torch.tensor([r for r, _ in part], device=x.device)  # (I,)
        alphas = _alpha_intervals([iv for _, iv in part], grading)
        a = torch.tensor([lo for lo, _ in alphas], dtype=x.dtype, device=x.device)  # (I,)
        b = torch.tensor([hi for _, hi in alphas], dtype=x.dtype, device=x.device)  # (I,)
        a, b = a.view(-1, 1, 1), b.view(-1, 1, 1)  # (I, 1, 1)
        starts = x0[rows] + a * (x[rows] - x0[rows])  # (I, T, H)
        finish = x0[rows] + b * (x[rows] - x0[rows])  # (I, T, H)
        attr = IntegratedGradients(problem.forward, multiply_by_inputs=True).attribute(
            finish.detach(),
            baselines=starts.detach(),
            additional_forward_args=problem.args(rows),
            n_steps=nodes,
            method="gausslegendre",
            internal_batch_size=max(per_call, len(part) * 2),
        )  # (I, T, H)
        parts.append(attr.sum(dim=-1).detach())  # (I, T)
    return torch.cat(parts)  # (I, T)


def _fill(problem: Problem, items: list[Item], grading: float, edges: dict) -> None:
    """F at the items' interval edges not evaluated yet, every row in one batched pass."""
    points = {(r, e) for r, iv in items for e in _alpha_intervals([iv], grading)[0]}
    missing = sorted(points - set(edges))
    if missing:
        edges.update(zip(missing, _path_values(problem, missing), strict=True))


def _checks(problem, items: list[Item], grading, scores, edges) -> torch.Tensor:
    """Each interval's check δ_i = Σ scores_i − (F(b_i) − F(a_i)), F from the edge cache."""
    _fill(problem, items, grading, edges)
    rises = [
        edges[(r, hi)] - edges[(r, lo)]
        for r, iv in items
        for lo, hi in _alpha_intervals([iv], grading)
    ]
    return scores.double().sum(dim=-1).float() - torch.tensor(rises, device=scores.device)  # (I,)


def _alpha_intervals(intervals: list[Interval], grading: float) -> list[Interval]:
    return [(lo**grading, hi**grading) for lo, hi in intervals]  # t -> α


def _to_refine(deltas: torch.Tensor, budget: int) -> list[int]:
    """The intervals holding the largest errors, together at least half the total error."""
    order = torch.argsort(deltas.abs(), descending=True).tolist()
    total, picked, acc = float(deltas.abs().sum()), [], 0.0
    for i in order[: max(1, budget)]:
        picked.append(i)
        acc += float(deltas[i].abs())
        if acc >= total / 2:
            break
    return picked


def _halve(interval: Interval) -> list[Interval]:
    lo, hi = interval
    mid = (lo + hi) / 2
    return [(lo, mid), (mid, hi)]


def _path_evaluations(tokens: int, options) -> int:
    """The first pass, or the refinement cap when it may refine."""
    return max(options.n_steps, options.max_steps if options.adaptive else 0)


INTEGRATED_GRADIENTS = Method(
    "integrated_gradients",
    integrated_gradients,
    label="Integrated gradients",
    description="Gradients averaged along a path from a baseline to the real embeddings; the "
    "scores add up to F(input) − F(baseline) (completeness).",
    completeness=True,
    holds_anchors=True,
    refines=True,
    params=IGParams,
    evaluations=_path_evaluations,
)
