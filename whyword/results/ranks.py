"""Spearman's rank correlation, the one every agreement in WhyWord reports: methods against
each other (the trust panel), DLA against ablation (the layers view), the evidence marginal
against leave-one-out. Pure Python, so every layer can use it."""

from __future__ import annotations

import math
from collections.abc import Sequence


def average_ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        stop = start
        while stop + 1 < len(order) and values[order[stop + 1]] == values[order[start]]:
            stop += 1
        for i in order[start : stop + 1]:
            ranks[i] = (start + stop) / 2 + 1
        start = stop + 1
    return ranks


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's ρ (Pearson's r of the average ranks); NaN if either side is constant or
    there are fewer than two values."""
    a, b = [float(x) for x in a], [float(x) for x in b]
    if len(a) != len(b):
        raise ValueError(f"spearman: {len(a)} vs {len(b)} values")
    if len(a) < 2:
        return math.nan
    ra, rb = average_ranks(a), average_ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    da, db = [r - ma for r in ra], [r - mb for r in rb]
    norm = math.sqrt(sum(x * x for x in da) * sum(y * y for y in db))
    if norm == 0:
        return math.nan
    return sum(x * y for x, y in zip(da, db, strict=True)) / norm
