"""Deletion and insertion curves: does removing the tokens a heatmap ranks first move F first?

Per row and method, tokens are ordered by score (descending signed score: most supporting
first; unsigned scores are magnitudes, so the same descending order). Deletion sets them, in
that order, to the row's reference embedding (occlusion's baseline) and follows the row's
objective F; insertion starts from every removable token at the reference and puts them back
in the same order. Held tokens (anchors, a causal model's first token) and out-of-context
(NaN) cells are never removed. Each curve is normalised between F(full input) = 1 and
F(all removable tokens at the reference) = 0; its area (trapezoids over the fraction of
tokens) is ≈ 0.5 for a random order on both curves: deletion lower is better, insertion higher.

Cost: `all_curves` plans every input the curves of every method need — the random orders,
both ends, each method's deletion and insertion prefixes — keeps each distinct (row, cells at
the reference) once (two methods that agree on their first tokens share those points), and
runs them through `problem.forward` in one batched no-grad pass (chunks sized by the memory
budget). The pass runs in the curves' own precision (whyword.runtime.precision.curves: bf16
autocast where it is native and measured close enough; the heatmaps keep theirs), both ends
included, so every point of a curve comes from one function.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from whyword.attr.problem import Problem
from whyword.results.matrix import Faithfulness
from whyword.runtime.precision import stage

__all__ = [
    "Faithfulness",
    "RandomBaseline",
    "all_curves",
    "method_faithfulness",
    "random_baseline",
    "removable",
]

RANDOM_ORDERS = 2  # seeded random orders per row for the random baseline (cost: one method's pass)
MIN_GAP = 1e-6  # |F(full) − F(all removed)| below this: the curves cannot be normalised


@dataclass(frozen=True, eq=False)
class RandomBaseline:
    """Per row: which tokens may be removed, F at both ends, and a random order's area."""

    removable: torch.Tensor  # (R, T) bool
    f_full: torch.Tensor  # (R,) F(real input)
    f_empty: torch.Tensor  # (R,) F(every removable token at the reference)
    area: tuple[float | None, ...]  # expected area of a random order (None: undefined row)
    precision: str = (
        "fp32"  # the curves' arithmetic: "fp32" | "bf16" (whyword/runtime/precision.py)
    )


def removable(problem: Problem, context: torch.Tensor) -> torch.Tensor:
    """(R, T) bool: in the row's context and not held (anchors; a causal model's first token)."""
    held = problem.anchors.clone()  # (R, T)
    model = problem.model
    if getattr(model, "kind", None) == "causal":
        held[:, 0] = True  # the attention sink: removing it measures the sink, not the text
    return context.to(held.device) & ~held  # (R, T)


class _Inputs:
    """The distinct inputs a set of curves needs: (row, cells at the reference) → one index."""

    def __init__(self) -> None:
        self.index: dict[tuple[int, bytes], int] = {}
        self.rows: list[int] = []
        self.masks: list[torch.Tensor] = []  # (T,) bool each

    def add(self, row: int, mask: torch.Tensor) -> int:
        key = (row, mask.cpu().numpy().tobytes())
        if key not in self.index:
            self.index[key] = len(self.rows)
            self.rows.append(row)
            self.masks.append(mask)
        return self.index[key]

    def evaluate(self, problem: Problem, precision: str) -> list[float]:
        rows = torch.tensor(self.rows, dtype=torch.long, device=problem.inputs.device)  # (N,)
        return _evaluate(problem, rows, self.masks, precision).tolist()


def all_curves(
    problem: Problem,
    removable_cells: torch.Tensor,
    scores: dict[str, torch.Tensor],
    restart: frozenset[int] = frozenset(),
    precision: str = "fp32",
    orders: int = RANDOM_ORDERS,
    seed: int = 0,
) -> dict[str, tuple[Faithfulness | None, ...]]:
    """Every method's curves (scores: name → (R, T)) and the random baseline, in one pass."""
    inputs = _Inputs()
    random_plan = _random_plan(removable_cells, inputs, orders, seed, restart, with_full=True)
    plans = {name: _method_plan(s, removable_cells, inputs) for name, s in scores.items()}
    values = inputs.evaluate(problem, precision)
    base = _random_finish(random_plan, values, removable_cells, None, orders, precision)
    return {name: _method_finish(plan, values, base) for name, plan in plans.items()}


def random_baseline(
    problem: Problem,
    removable_cells: torch.Tensor,
    f_full: torch.Tensor | None = None,
    orders: int = RANDOM_ORDERS,
    seed: int = 0,
    restart: frozenset[int] = frozenset(),
    precision: str = "fp32",
) -> RandomBaseline:
    """F at both ends per row, and the mean area of `orders` seeded random deletion orders.

    Inserting in order π passes through the inputs of deleting in reversed π, with the
    area mirrored onto the same value; so one set of curves estimates the random deletion and
    insertion areas alike (their expectations over all orders are equal). `restart`: rows
    where the seeded orders start afresh (the first row of each request batched together).
    `f_full`: F(real input) per row when the caller has it in the curves' precision; None
    evaluates it in the same pass (one row each)."""
    inputs = _Inputs()
    plan = _random_plan(removable_cells, inputs, orders, seed, restart, f_full is None)
    values = inputs.evaluate(problem, precision)
    return _random_finish(plan, values, removable_cells, f_full, orders, precision)


def method_faithfulness(
    problem: Problem, scores: torch.Tensor, base: RandomBaseline
) -> tuple[Faithfulness | None, ...]:
    """Deletion and insertion curves of one method's (R, T) scores, in one batched pass.

    None for a row with nothing to remove or whose F does not change when all is removed."""
    inputs = _Inputs()
    plan = _method_plan(scores, base.removable, inputs, skip=base.area)
    return _method_finish(plan, inputs.evaluate(problem, base.precision), base)


def _random_plan(cells_rt, inputs: _Inputs, orders, seed, restart, with_full: bool) -> list:
    """(row, order, k, input) per point: order −2 is F(real input), −1 F(all removed)."""
    r, t = cells_rt.shape
    gen = torch.Generator(device="cpu").manual_seed(seed)
    plan = []
    for row in range(r):
        if row in restart:
            gen.manual_seed(seed)
        cells = cells_rt[row].nonzero().flatten().cpu()  # (n,)
        if with_full:
            plan.append((row, -2, 0, inputs.add(row, torch.zeros_like(cells_rt[row]))))
        plan.append((row, -1, len(cells), inputs.add(row, cells_rt[row])))
        for order in range(orders):
            perm = cells[torch.randperm(len(cells), generator=gen)]  # (n,)
            for k in range(1, len(cells)):
                plan.append((row, order, k, inputs.add(row, _first(perm[:k], t, cells_rt.device))))
    return plan


def _random_finish(plan, values, cells_rt, f_full, orders: int, precision: str) -> RandomBaseline:
    r = cells_rt.shape[0]
    full = torch.zeros(r, dtype=torch.double) if f_full is None else f_full.clone()  # (R,)
    empty = full.clone()  # (R,)
    curves: dict[tuple[int, int], dict[int, float]] = {}
    for row, order, k, i in plan:
        if order == -2:
            full[row] = values[i]
        elif order == -1:
            empty[row] = values[i]
        else:
            curves.setdefault((row, order), {})[k] = values[i]
    areas = []
    for row in range(r):
        n = int(cells_rt[row].sum())
        if n == 0 or abs(float(full[row] - empty[row])) < MIN_GAP:
            areas.append(None)
            continue
        ends = (full[row], empty[row])
        runs = [_area(_normalise(curves.get((row, o), {}), n, *ends, *ends)) for o in range(orders)]
        areas.append(sum(runs) / len(runs))
    return RandomBaseline(cells_rt, full, empty, tuple(areas), precision)


def _method_plan(scores: torch.Tensor, cells_rt: torch.Tensor, inputs: _Inputs, skip=None):
    """Per row: its order (most supporting first) and (kind, k, input) per curve point."""
    t = cells_rt.shape[1]
    plan = []
    for row in range(scores.shape[0]):
        cells = cells_rt[row].nonzero().flatten()  # (n,)
        key = scores[row, cells.cpu()].double()  # (n,)
        rank = torch.sort(key, descending=True, stable=True).indices  # (n,)
        order = cells[rank.to(cells.device)]  # (n,) most supporting first
        points = []
        if skip is None or skip[row] is not None:
            for k in range(1, len(order)):
                first = _first(order[:k], t, cells_rt.device)  # (T,)
                points.append(("deletion", k, inputs.add(row, first)))
                points.append(("insertion", k, inputs.add(row, cells_rt[row] & ~first)))
        plan.append((len(order), points))
    return plan


def _method_finish(plan, values: list[float], base: RandomBaseline) -> tuple:
    out = []
    for row, (n, points) in enumerate(plan):
        if base.area[row] is None:
            out.append(None)
            continue
        got: dict[str, dict[int, float]] = {"deletion": {}, "insertion": {}}
        for kind, k, i in points:
            got[kind][k] = values[i]
        full, empty = base.f_full[row], base.f_empty[row]
        deletion = _normalise(got["deletion"], n, full, empty, full, empty)
        insertion = _normalise(got["insertion"], n, empty, full, full, empty)
        out.append(
            Faithfulness(
                deletion=_area(deletion),
                insertion=_area(insertion),
                deletion_curve=deletion,
                insertion_curve=insertion,
                random_deletion=base.area[row],
                random_insertion=base.area[row],
                curve_precision=base.precision,
            )
        )
    return tuple(out)


def _first(cells: torch.Tensor, t: int, device) -> torch.Tensor:
    mask = torch.zeros(t, dtype=torch.bool, device=device)  # (T,)
    mask[cells.to(device)] = True
    return mask


def _evaluate(
    problem: Problem, copies: torch.Tensor, at_ref: list[torch.Tensor], precision: str = "fp32"
) -> torch.Tensor:
    """F of copy `copies[i]` with the cells `at_ref[i]` at the reference, in budget chunks."""
    if not at_ref:
        return torch.zeros(0, device=problem.inputs.device)
    size = problem.call_rows(grad=False, wide=precision == "bf16")
    inputs, reference = problem.inputs.detach(), problem.reference.detach()  # (R, T, H) each
    out = []
    with torch.no_grad(), stage(precision, inputs.device):
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
