"""The 95 % bootstrap interval of a mean, the one every summary over prompts reports: the
faithfulness benchmark (benchmarks/faithfulness.py) and a dataset run's summary
(whyword/results/dataset.py). Pure Python and seeded, so a summary repeats exactly."""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence


def bootstrap_mean(
    values: Sequence[float], n: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """(mean, low, high): the mean of `values` and the 2.5th / 97.5th percentiles of the means
    of `n` resamples drawn with replacement (seeded). One value gives a zero-width interval."""
    if not values:
        raise ValueError("bootstrap_mean needs at least one value")
    rng = random.Random(seed)
    means = sorted(statistics.mean(rng.choices(values, k=len(values))) for _ in range(n))
    return statistics.mean(values), means[int(0.025 * n)], means[int(0.975 * n) - 1]
