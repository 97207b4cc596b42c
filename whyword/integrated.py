"""Integrated gradients that check their own completeness, interval by interval.

F is known exactly at every point of the straight path x(α) = x' + α(x − x'), so on each
sub-interval [a, b] the quadrature of the gradients can be checked against F(b) − F(a).
Rows are sub-intervals; the ones whose check is off the most are halved and recomputed until
the completeness error |Σ δ_i| ≤ tolerance · |F(x) − F(x')|, or the step cap.

The sub-intervals are graded towards the baseline: their edges sit at α = t**grading for
equally spaced t, and halving splits them in t. On causal LMs F wiggles near the baseline
(α ≲ 0.05, where the moving embeddings are tiny next to the held first token's residual
stream) and is smooth after, so nodes are needed there: on 12 held-out prompts, graded
edges with 4 nodes per interval reached the tolerance in 536 steps, equal ones in 616, and
the previous default (equal intervals of 8 nodes, stopping on Σ|δ_i|) in 1008
(benchmarks/RESULTS.md). The path and the integral are the same straight-line IG; only
where the nodes sit changes.

Captum computes the gradients (Gauss–Legendre nodes on each interval). F at the inner interval
edges is needed only when the first pass misses the tolerance (to find the intervals to
halve); it is then computed once per edge and cached, where Captum's own convergence delta
would run two fresh forwards per interval per pass although neighbours share their edges and
a halving adds one new edge. The returned convergence delta does not use that cache: it is
the total of the scores against the two independent end-point forwards F(x) and F(x').
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from captum.attr import IntegratedGradients

from whyword.attribution import AttributionProblem, MethodResult

Interval = tuple[float, float]  # (t_start, t_end) in the graded parameter: α = t**grading


def integrate(problem: AttributionProblem, options) -> MethodResult:
    problem, held = problem.path_problem()  # the held first token runs once, not per row
    f_x, f_0 = _path_values(problem, [1.0, 0.0])
    gap = f_x - f_0
    edges_f = {0.0: f_0, 1.0: f_x}  # F at the path points already evaluated, by α
    intervals, nodes = _first_intervals(options)
    grading = options.ig_grading if options.adaptive else 1.0
    scores = _integrate_intervals(problem, intervals, nodes, grading, options)  # (R, T)
    steps = len(intervals) * nodes
    tolerance = options.ig_tolerance * max(abs(gap), 1e-6)
    deltas = None  # per-interval checks: F at the inner edges is only computed when needed
    while (
        options.adaptive
        and abs(float(scores.double().sum()) - gap) > tolerance
        and steps + 2 * nodes <= options.max_steps
    ):
        deltas = _interval_checks(problem, intervals, grading, scores, edges_f)  # (R,)
        worst = _to_refine(deltas, budget=(options.max_steps - steps) // (2 * nodes))
        halves = [h for i in worst for h in _halve(intervals[i])]
        new_scores = _integrate_intervals(problem, halves, nodes, grading, options)  # (2W, T)
        keep = [i for i in range(len(intervals)) if i not in set(worst)]
        intervals = [intervals[i] for i in keep] + halves
        scores = torch.cat([scores[keep], new_scores])  # (R', T)
        steps += len(halves) * nodes
        if options.progress is not None:
            options.progress(min(1.0, steps / options.max_steps), f"IG: {steps} steps")
    if deltas is not None:  # refined: the checks of the final intervals (cheap: midpoints)
        deltas = _interval_checks(problem, intervals, grading, scores, edges_f)  # (R,)
    total = torch.cat([torch.zeros(held), scores.sum(dim=0)])  # (T,): held tokens score 0
    delta = float(total.sum()) - gap  # exact: scores against the two end-point forwards
    ok_gap = abs(gap) > 1e-9
    return MethodResult(
        total,
        {
            "steps": steps,
            "convergence_delta": delta,
            "relative_error": abs(delta) / abs(gap) if ok_gap else None,
            "error_bound": float(deltas.abs().sum()) / abs(gap)
            if ok_gap and deltas is not None
            else None,
            "f_input": f_x,
            "f_baseline": f_0,
            "intervals": len(intervals),
        },
    )


def _first_intervals(options) -> tuple[list[Interval], int]:
    """Sub-intervals (equal in t) covering n_steps with `nodes_per_interval` nodes each
    (adaptive), or one interval with all n_steps nodes (plain Gauss–Legendre IG, as Captum's)."""
    if not options.adaptive:
        return [(0.0, 1.0)], options.n_steps
    nodes = max(1, min(options.nodes_per_interval, options.n_steps))
    segments = max(1, options.n_steps // nodes)
    edges = torch.linspace(0.0, 1.0, segments + 1).tolist()
    return list(zip(edges[:-1], edges[1:], strict=True)), nodes


def _path_values(problem: AttributionProblem, alphas: Sequence[float]) -> list[float]:
    """F(x' + α(x − x')) for each α, one batched forward without gradients."""
    x, x0 = problem.inputs.detach(), problem.baseline.detach()  # (1, T, H)
    a = torch.tensor(alphas, dtype=x.dtype).view(-1, 1, 1)  # (A, 1, 1)
    with torch.no_grad():
        values = problem.forward(x0 + a * (x - x0), problem.mask_rows(len(alphas)))  # (A,)
    return [float(v) for v in values]


def _integrate_intervals(
    problem: AttributionProblem,
    intervals: list[Interval],
    nodes: int,
    grading: float,
    options,
) -> torch.Tensor:
    """Gauss–Legendre IG (in α) on each sub-interval of the path, one batch row per interval."""
    alphas = _alpha_intervals(intervals, grading)
    x, x0 = problem.inputs, problem.baseline  # (1, T, H)
    a = torch.tensor([lo for lo, _ in alphas]).view(-1, 1, 1)  # (R, 1, 1)
    b = torch.tensor([hi for _, hi in alphas]).view(-1, 1, 1)  # (R, 1, 1)
    starts = x0 + a * (x - x0)  # (R, T, H)
    ends = x0 + b * (x - x0)  # (R, T, H)
    attr = IntegratedGradients(problem.forward, multiply_by_inputs=True).attribute(
        ends,
        baselines=starts,
        additional_forward_args=(problem.mask_rows(len(intervals)),),
        n_steps=nodes,
        method="gausslegendre",
        internal_batch_size=options.batch_rows(x.shape[1]),
    )  # (R, T, H)
    return attr.sum(dim=-1).detach()  # (R, T)


def _interval_checks(
    problem: AttributionProblem,
    intervals: list[Interval],
    grading: float,
    scores: torch.Tensor,
    edges_f: dict[float, float],
) -> torch.Tensor:
    """Each interval's check δ_i = Σ scores_i − (F(b_i) − F(a_i)), F from the edge cache."""
    alphas = _alpha_intervals(intervals, grading)
    _fill_edges(problem, alphas, edges_f)
    rises = torch.tensor([edges_f[hi] - edges_f[lo] for lo, hi in alphas])  # (R,)
    return scores.double().sum(dim=-1).float() - rises  # (R,)


def _alpha_intervals(intervals: list[Interval], grading: float) -> list[Interval]:
    return [(lo**grading, hi**grading) for lo, hi in intervals]  # t -> α


def _fill_edges(
    problem: AttributionProblem, intervals: list[Interval], edges_f: dict[float, float]
) -> None:
    """Evaluate F at the interval edges not seen yet (after a halving: the midpoints)."""
    missing = sorted({e for iv in intervals for e in iv} - set(edges_f))
    if missing:
        edges_f.update(zip(missing, _path_values(problem, missing), strict=True))


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
