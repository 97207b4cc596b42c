"""The tolerances of every comparison between two code routes, stated once, each with its reason.

Two routes to the same numbers (rows batched or alone, padded or not, a KV cache or a full
forward, a folded pass or separate ones, the API or the library) may group their float sums
differently, and so may torch's kernels on another CPU: AVX-512, AVX2 and the plain ones
(`ATEN_CPU_CAPABILITY=avx512|avx2|default` picks them on any machine) split matrix products and
reductions differently. So no test compares two routes with exact float equality; it states how
far apart they may be with one of these. The same route run twice in one process (determinism)
or numbers handed on unchanged (a cache hit, a stage that is the result) stay compared exactly.

`assert_close(actual, expected, tol)` passes when every |actual − expected| ≤
max(tol.atol, tol.rtol · |expected|) (pytest.approx's rule), with NaN only where the other has
NaN. With `WHYWORD_TOLERANCE_LOG=path` set it also appends, per call, how much of the tolerance
was used (`used` = worst |actual − expected| / allowed), and `WHYWORD_TOLERANCE_MEASURE_ONLY=1`
logs without failing: how the values below were measured,
under `ATEN_CPU_CAPABILITY=avx2` and `=default` and on an AVX-512 machine (`scripts/test.sh`
runs the numerics tests under the first two). "used" figures below are the worst over all
three.
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from whyword.precision import CURVE_BOUND


@dataclass(frozen=True)
class Tolerance:
    name: str
    rtol: float
    atol: float

    def __post_init__(self) -> None:
        if not (self.rtol >= 0 and self.atol >= 0 and self.rtol + self.atol > 0):
            raise ValueError(f"{self.name}: a tolerance needs rtol, atol >= 0, not both 0")


# Two front doors into the same arithmetic on the same shapes: explain() and its one-row
# attribute(), the API and the library, a negated objective and its gradient. Bit-equal on one
# machine's kernels, but the routes may run on threads with another torch thread count, which
# splits reductions differently: the API and the library differed by 1e-10 on a CPU without
# AVX-512. A few float32 ulps of relative error, and 1e-9 absolute for scores near 0.
SAME_ARITHMETIC = Tolerance("same arithmetic", rtol=1e-6, atol=1e-9)

# Two fp32 routes on the tiny random test models (2 layers, width 32, vocab ~1,000), grouping
# sums differently: rows batched or alone, a padded batch, a budget of one row per call, the
# folded one-pass gradient against Captum's, a cached first token. Sums of tens of terms:
# errors stay within ~10 ulps of the values; 1e-6 absolute covers scores that cancel to ~0.
TINY_FP32 = Tolerance("tiny fp32 routes", rtol=1e-5, atol=1e-6)

# The same on the default model (SmolLM2-135M: 30 layers, width 576, vocab 49,152) or on sums
# of many rows (IG's path, the curves): rounding grows with depth and with the softmax over
# 49k logits. A probability of 0.71 read off two forwards differed by 1.7e-5 on an AVX2 CPU
# (tests/test_positions.py), so the relative part carries it: 1e-4 relative, 1e-5 absolute.
FP32 = Tolerance("fp32 routes", rtol=1e-4, atol=1e-5)

# A probability read off two routes (the evidence reader against the plain predictions on the
# same text; infill's cached rescoring against the core's): probabilities span decades, so
# relative; 1e-12 absolute only for an underflow.
PROBABILITY = Tolerance("probability routes", rtol=1e-4, atol=1e-12)

# A whole next-token distribution from two routes (a KV-cached step against a full forward):
# absolute, since most of the vocabulary sits near 0, where a relative error means nothing.
DISTRIBUTION = Tolerance("distribution routes", rtol=0.0, atol=1e-5)

# A log-probability (or a difference of two) from two forwards over the same tokens:
# log_softmax subtracts a logsumexp of V logits, so its error is absolute, not relative.
LOG_PROB = Tolerance("log-prob routes", rtol=0.0, atol=1e-5)

# An entropy in bits, −Σ p log2 p over the vocabulary, from the library's float32 softmax and
# a float64 reference: an expectation of log-probabilities, so its error is absolute too, and
# it sums V terms (49,152 on the default model).
ENTROPY = Tolerance("entropy routes", rtol=0.0, atol=1e-4)

# A log-probability put together from several forwards in one route and one in the other:
# transformers' generate, step by step with its KV cache, against a teacher-forced pass; a
# hand-written token-by-token sum; infill's rescored candidates. The errors of each step add.
CHAINED_LOG_PROB = Tolerance("chained log-prob routes", rtol=0.0, atol=1e-4)

# transformers' own compute_transition_scores in float32 against WhyWord's float64 log-softmax
# on the default model: its float32 log-softmax over a strided 49k-token axis drifts ~1e-4.
HF_FP32_TRANSITIONS = Tolerance("transformers' float32 transition scores", rtol=0.0, atol=1e-3)

# IG's scores with the held first token's keys and values computed once against feeding it on
# every path row, on the default model, as a fraction of the largest score: the cached prefix
# changes the attention's sums over 30 layers and IG adds them up over its steps.
SCALED_IG_PREFIX = Tolerance("IG with a cached prefix, / max |score|", rtol=0.0, atol=2e-3)

# A point of a deletion / insertion curve, (F − F(empty)) / (F(full) − F(empty)), from two
# routes (one batched call against a loop of single forwards): dividing by the gap, a few
# hundredths on the tiny models, magnifies F's rounding. Curves run from 0 to 1.
CURVE = Tolerance("curve routes", rtol=0.0, atol=2e-4)

# bf16 autocast against fp32 (tests/test_precision.py): bf16 keeps 8 bits of mantissa, ~4e-3
# relative per operation. F, a log-probability of a few nats, moves by a few hundredths; the
# curves' areas are held to the bound "auto" promises (whyword.precision.CURVE_BOUND); the
# heatmaps to ERROR_BOUND on the relative L2 error, which is a norm, not an elementwise check.
BF16_VALUE = Tolerance("bf16 against fp32, F", rtol=0.0, atol=0.05)
BF16_CURVE = Tolerance("bf16 against fp32, curve areas", rtol=0.0, atol=CURVE_BOUND)

# The same request in a fresh process, whose torch thread count may differ from the test's:
# the same kernels, sums split across threads another way. float32 rounding of the sums.
OTHER_PROCESS = Tolerance("another process", rtol=1e-5, atol=1e-7)

# float64 formula against float64 autograd (the evidence marginal's relevance gradient): both
# exact up to float64 rounding of a few terms.
FLOAT64 = Tolerance("float64 routes", rtol=1e-10, atol=1e-12)


def for_scores(method: str, tol: Tolerance) -> Tolerance:
    """`tol` for a method's scores, but occlusion's are differences of two values of F (a
    log-probability of a few nats): their rounding is F's, absolute, so at least LOG_PROB's.
    On the tiny models (F ≈ −7, one float32 ulp 4.8e-7) rows batched or alone differ by 1 ulp."""
    if method != "occlusion" or tol.atol >= LOG_PROB.atol:
        return tol
    return Tolerance(f"{tol.name}, occlusion", rtol=tol.rtol, atol=LOG_PROB.atol)


def _array(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        return value.detach().cpu().double().numpy()
    return np.asarray(_nan_for_none(value), dtype=np.float64)


def _nan_for_none(value: Any) -> Any:
    """JSON's null (a cell out of context) as NaN, at any depth of nested lists."""
    if value is None:
        return math.nan
    if isinstance(value, (list, tuple)):
        return [_nan_for_none(v) for v in value]
    return value


def assert_close(actual: Any, expected: Any, tol: Tolerance, what: str = "") -> None:
    """Every element of `actual` within `tol` of `expected` (scalars, sequences, numpy arrays
    or tensors, of one shape); NaN must stand where the other has NaN."""
    a, e = _array(actual), _array(expected)
    label = f"{what}: " if what else ""
    assert a.shape == e.shape, f"{label}shapes differ: {a.shape} vs {e.shape}"
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    assert (nan_a == nan_e).all(), f"{label}NaN at different places"
    diff = np.abs(np.where(nan_a, 0.0, a - e))  # same shape
    allowed = np.maximum(tol.atol, tol.rtol * np.abs(np.where(nan_e, 0.0, e)))  # same shape
    used = float((diff / allowed).max()) if diff.size else 0.0
    _log(tol, used, float(diff.max()) if diff.size else 0.0, what)
    if used > 1.0 and not os.environ.get("WHYWORD_TOLERANCE_MEASURE_ONLY"):
        worst = np.unravel_index(int(np.argmax(diff / allowed)), diff.shape)
        raise AssertionError(
            f"{label}not within {tol.name} (rtol={tol.rtol:g}, atol={tol.atol:g}): at {worst} "
            f"{a[worst]!r} vs {e[worst]!r}, |diff| {diff[worst]:.3g} > allowed "
            f"{allowed[worst]:.3g} ({used:.2f}× the tolerance)"
        )


def assert_close_fields(got: Any, want: Any, tol: Tolerance, numbers: tuple[str, ...]) -> None:
    """Two frozen dataclasses from two routes: equal in every field but the float `numbers`,
    which must be within `tol`."""
    blank = dict.fromkeys(numbers, 0.0)
    assert replace(got, **blank) == replace(want, **blank)
    for name in numbers:
        assert_close(getattr(got, name), getattr(want, name), tol, name)


def assert_same_predictions(got: Any, want: Any, tol: Tolerance) -> None:
    """Top-k predictions (whyword.Prediction per slot) from two routes: the same candidates in
    the same order, their log-probabilities within `tol`."""
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert replace(a, candidates=()) == replace(b, candidates=())
        assert len(a.candidates) == len(b.candidates)
        for c, d in zip(a.candidates, b.candidates, strict=True):
            assert_close_fields(c, d, tol, ("log_prob",))


def _log(tol: Tolerance, used: float, max_abs: float, what: str) -> None:
    path = os.environ.get("WHYWORD_TOLERANCE_LOG")
    if not path:
        return
    caller = sys._getframe(2)  # the test that called assert_close
    record = {
        "tolerance": tol.name,
        "site": f"{Path(caller.f_code.co_filename).name}:{caller.f_lineno}",
        "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
        "what": what,
        "capability": os.environ.get("ATEN_CPU_CAPABILITY", "native"),
        "used": used,
        "max_abs": max_abs,
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")
