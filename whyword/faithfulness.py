"""Deletion and insertion curves: does removing the tokens a heatmap ranks first move F first?

Per row and method, tokens are ordered by score (descending signed score: most supporting
first; unsigned scores are magnitudes, so the same descending order). Deletion sets them, in
that order, to the row's reference embedding (occlusion's baseline) and follows the row's
objective F; insertion starts from every removable token at the reference and puts them back
in the same order. Held tokens (anchors, a causal model's first token) and out-of-context
(NaN) cells are never removed. Each curve is normalised between F(full input) = 1 and
F(all removable tokens at the reference) = 0; its area (trapezoids over the fraction of
tokens) is ≈ 0.5 for a random order on both curves: deletion lower is better, insertion higher.

Cost: every method's prefix inputs of every row go through `problem.forward` in one batched
no-grad pass (chunks sized by the memory budget), plus one pass per matrix for the random
baseline and F(all removed).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from whyword.attr.problem import Problem
from whyword.matrix import Faithfulness

__all__ = ["Faithfulness", "RandomBaseline", "method_faithfulness", "random_baseline", "removable"]

RANDOM_ORDERS = 2  # seeded random orders per row for the random baseline (cost: one method's pass)
MIN_GAP = 1e-6  # |F(full) − F(all removed)| below this: the curves cannot be normalised


@dataclass(frozen=True, eq=False)
class RandomBaseline:
    """Per row: which tokens may be removed, F at both ends, and a random order's area."""

    removable: torch.Tensor  # (R, T) bool
    f_full: torch.Tensor  # (R,) F(real input)
    f_empty: torch.Tensor  # (R,) F(every removable token at the reference)
    area: tuple[float | None, ...]  # expected area of a random order (None: undefined row)


def removable(problem: Problem, context: torch.Tensor) -> torch.Tensor:
    """(R, T) bool: in the row's context and not held (anchors; a causal model's first token)."""
    held = problem.anchors.clone()  # (T,)
    model = problem.model
    if getattr(model, "kind", None) == "causal":
        held[0] = True  # the attention sink: removing it measures the sink, not the text
    return context.to(held.device) & ~held.view(1, -1)  # (R, T)


def random_baseline(
    problem: Problem,
    removable_cells: torch.Tensor,
    f_full: torch.Tensor,
    orders: int = RANDOM_ORDERS,
    seed: int = 0,
    restart: frozenset[int] = frozenset(),
) -> RandomBaseline:
    """F(all removed) per row, and the mean area of `orders` seeded random deletion orders.

    Inserting in order π passes through the inputs of deleting in reversed π, with the
    area mirrored onto the same value; so one set of curves estimates the random deletion and
    insertion areas alike (their expectations over all orders are equal). `restart`: rows
    where the seeded orders start afresh (the first row of each request batched together)."""
    r, t = removable_cells.shape
    gen = torch.Generator(device="cpu").manual_seed(seed)
    at_ref, plan = [], []  # one (T,) "at the reference" mask per forward; (row, order, k)
    for row in range(r):
        if row in restart:
            gen.manual_seed(seed)
        cells = removable_cells[row].nonzero().flatten().cpu()  # (n,)
        at_ref.append(removable_cells[row])  # F(all removed)
        plan.append((row, -1, len(cells)))
        for order in range(orders):
            perm = cells[torch.randperm(len(cells), generator=gen)]  # (n,)
            for k in range(1, len(cells)):
                at_ref.append(_first(perm[:k], t, removable_cells.device))
                plan.append((row, order, k))
    rows = torch.tensor([p[0] for p in plan], device=problem.inputs.device)  # (N,)
    values = _evaluate(problem, rows, at_ref)  # (N,)
    f_empty = f_full.clone()  # (R,)
    curves = {}
    for (row, order, k), v in zip(plan, values.tolist(), strict=True):
        if order < 0:
            f_empty[row] = v
        else:
            curves.setdefault((row, order), {})[k] = v
    areas = []
    for row in range(r):
        n = int(removable_cells[row].sum())
        gap = float(f_full[row] - f_empty[row])
        if n == 0 or abs(gap) < MIN_GAP:
            areas.append(None)
            continue
        runs = [
            _area(
                _normalise(
                    curves.get((row, o), {}),
                    n,
                    f_full[row],
                    f_empty[row],
                    f_full[row],
                    f_empty[row],
                )
            )
            for o in range(orders)
        ]
        areas.append(sum(runs) / len(runs))
    return RandomBaseline(removable_cells, f_full, f_empty, tuple(areas))


def method_faithfulness(
    problem: Problem, scores: torch.Tensor, base: RandomBaseline
) -> tuple[Faithfulness | None, ...]:
    """Deletion and insertion curves of one method's (R, T) scores, in one batched pass.

    None for a row with nothing to remove or whose F does not change when all is removed."""
    r, t = scores.shape
    device = base.removable.device
    at_ref, plan, orders = [], [], []
    for row in range(r):
        cells = base.removable[row].nonzero().flatten()  # (n,)
        key = scores[row, cells.cpu()].double()  # (n,)
        rank = torch.sort(key, descending=True, stable=True).indices  # (n,)
        order = cells[rank.to(cells.device)]  # (n,) most supporting first
        orders.append(order)
        if base.area[row] is None:
            continue
        n = len(order)
        for k in range(1, n):
            at_ref.append(_first(order[:k], t, device))  # deletion: first k removed
            plan.append((row, "deletion", k))
            inserted = _first(order[:k], t, device)  # (T,)
            at_ref.append(base.removable[row] & ~inserted)  # insertion: first k back
            plan.append((row, "insertion", k))
    rows = torch.tensor([p[0] for p in plan], dtype=torch.long, device=device)  # (N,)
    values = _evaluate(problem, rows, at_ref)
    points: dict[tuple[int, str], dict[int, float]] = {}
    for (row, kind, k), v in zip(plan, values.tolist(), strict=True):
        points.setdefault((row, kind), {})[k] = v
    out = []
    for row in range(r):
        if base.area[row] is None:
            out.append(None)
            continue
        n = len(orders[row])
        full, empty = base.f_full[row], base.f_empty[row]
        deletion = _normalise(points.get((row, "deletion"), {}), n, full, empty, full, empty)
        insertion = _normalise(points.get((row, "insertion"), {}), n, empty, full, full, empty)
        out.append(
            Faithfulness(
                deletion=_area(deletion),
                insertion=_area(insertion),
                deletion_curve=deletion,
                insertion_curve=insertion,
                random_deletion=base.area[row],
                random_insertion=base.area[row],
            )
        )
    return tuple(out)


def _first(cells: torch.Tensor, t: int, device) -> torch.Tensor:
    mask = torch.zeros(t, dtype=torch.bool, device=device)  # (T,)
    mask[cells.to(device)] = True
    return mask


def _evaluate(problem: Problem, copies: torch.Tensor, at_ref: list[torch.Tensor]) -> torch.Tensor:
    """F of copy `copies[i]` with the cells `at_ref[i]` at the reference, in budget chunks."""
    if not at_ref:
        return torch.zeros(0, device=problem.inputs.device)
    size = problem.call_rows(grad=False)
    inputs, reference = problem.inputs.detach(), problem.reference.detach()  # (R, T, H) each
    out = []
    with torch.no_grad():
        for start in range(0, len(at_ref), size):
            idx = copies[start : start + size].to(inputs.device)  # (B,)
            mask = torch.stack(at_ref[start : start + size]).unsqueeze(-1)  # (B, T, 1)
            x = torch.where(mask, reference[idx], inputs[idx])  # (B, T, H)
            attn, rows = problem.args(idx)  # (B, T), (B,)
            out.append(problem.forward(x, attn, rows).detach().double().cpu())  # (B,)
    return torch.cat(out)  # (N,)


def _normalise(points: dict[int, float], n: int, first, last, full, empty) -> tuple[float, ...]:
    """The curve F(0..n), F(0) = `first`, F(n) = `last`, mapped so F(full input) is 1 and
    F(every removable token at the reference) is 0."""
    full, empty = float(full), float(empty)
    values = [float(first), *(points[k] for k in range(1, n)), float(last)]
    return tuple((v - empty) / (full - empty) for v in values)


def _area(curve: tuple[float, ...]) -> float:
    """Trapezoid rule over the fraction of tokens, x = k / n."""
    n = len(curve) - 1
    if n <= 0:
        return 0.5
    return sum((a + b) / 2 for a, b in zip(curve[:-1], curve[1:], strict=True)) / n
