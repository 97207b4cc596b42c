"""Integrated gradients that check their own completeness, interval by interval.

F is known exactly at every point of the straight path x(α) = x' + α(x − x'), so on each
sub-interval [a, b] the quadrature of the gradients can be checked against F(b) − F(a):
Captum's convergence delta per batch row. Rows are sub-intervals; the ones whose delta is
largest are halved and recomputed until Σ|δ_i| ≤ tolerance · |F(x) − F(x')| or the step cap.
Refinement lands where F changes fast (on SmolLM2, near the attention-sink jumps).
"""

from __future__ import annotations

import torch
from captum.attr import IntegratedGradients

from whyword.attribution import AttributionProblem, MethodResult


def integrate(problem: AttributionProblem, options) -> MethodResult:
    x, x0 = problem.inputs, problem.baseline  # (1, T, H) each
    with torch.no_grad():
        ends = problem.forward(torch.cat([x, x0]), problem.mask_rows(2))  # (2,)
    f_x, f_0 = float(ends[0]), float(ends[1])
    gap = f_x - f_0
    nodes = max(1, min(options.nodes_per_interval, options.n_steps))
    segments = max(1, options.n_steps // nodes) if options.adaptive else 1
    nodes = nodes if options.adaptive else options.n_steps
    edges = torch.linspace(0.0, 1.0, segments + 1).tolist()
    intervals = list(zip(edges[:-1], edges[1:], strict=True))
    scores, deltas = _integrate_intervals(problem, intervals, nodes, options)  # (R, T), (R,)
    steps = len(intervals) * nodes
    tolerance = options.ig_tolerance * max(abs(gap), 1e-6)
    while (
        options.adaptive
        and deltas.abs().sum() > tolerance
        and steps + 2 * nodes <= options.max_steps
    ):
        worst = _to_refine(deltas, budget=(options.max_steps - steps) // (2 * nodes))
        halves = [h for i in worst for h in _halve(intervals[i])]
        new_scores, new_deltas = _integrate_intervals(problem, halves, nodes, options)
        keep = [i for i in range(len(intervals)) if i not in set(worst)]
        intervals = [intervals[i] for i in keep] + halves
        scores = torch.cat([scores[keep], new_scores])  # (R', T)
        deltas = torch.cat([deltas[keep], new_deltas])  # (R',)
        steps += len(halves) * nodes
        if options.progress is not None:
            options.progress(min(1.0, steps / options.max_steps), f"IG: {steps} steps")
    total = scores.sum(dim=0)  # (T,)
    delta = float(total.sum()) - gap  # exact: scores against the two end-point forwards
    return MethodResult(
        total,
        {
            "steps": steps,
            "convergence_delta": delta,
            "relative_error": abs(delta) / abs(gap) if abs(gap) > 1e-9 else None,
            "error_bound": float(deltas.abs().sum()) / abs(gap) if abs(gap) > 1e-9 else None,
            "f_input": f_x,
            "f_baseline": f_0,
            "intervals": len(intervals),
        },
    )


def _integrate_intervals(problem: AttributionProblem, intervals, nodes: int, options):
    """Gauss–Legendre IG on each sub-interval of the path, one batch row per interval."""
    x, x0 = problem.inputs, problem.baseline  # (1, T, H)
    a = torch.tensor([lo for lo, _ in intervals]).view(-1, 1, 1)  # (R, 1, 1)
    b = torch.tensor([hi for _, hi in intervals]).view(-1, 1, 1)  # (R, 1, 1)
    starts = x0 + a * (x - x0)  # (R, T, H)
    ends = x0 + b * (x - x0)  # (R, T, H)
    attr, delta = IntegratedGradients(problem.forward, multiply_by_inputs=True).attribute(
        ends,
        baselines=starts,
        additional_forward_args=(problem.mask_rows(len(intervals)),),
        n_steps=nodes,
        method="gausslegendre",
        internal_batch_size=options.internal_batch_size,
        return_convergence_delta=True,
    )  # (R, T, H), (R,)
    return attr.sum(dim=-1).detach(), delta.detach()  # (R, T), (R,)


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


def _halve(interval: tuple[float, float]) -> list[tuple[float, float]]:
    lo, hi = interval
    mid = (lo + hi) / 2
    return [(lo, mid), (mid, hi)]
