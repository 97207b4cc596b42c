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
was used (`used` = worst |actual − expected| / allowed); `WHYWORD_TOLERANCE_MEASURE_ONLY=1`
logs without failing. That is how the levels below were measured: under AVX-512 kernels and
under `ATEN_CPU_CAPABILITY=avx2` and `=default` (`scripts/test.sh` runs the fast numerics tests
under the last two).
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

from whyword.runtime.precision import CURVE_BOUND


@dataclass(frozen=True)
class Tolerance:
    name: str
    rtol: float
    atol: float

    def __post_init__(self) -> None:
        if not (self.rtol >= 0 and self.atol > 0):  # a relative bound alone cannot compare a 0
            raise ValueError(f"{self.name}: a tolerance needs rtol >= 0 and atol > 0")


# Each level: what it compares, why its size, and the largest difference measured over the
# numerics tests under AVX-512, ATEN_CPU_CAPABILITY=avx2 and =default ("worst"). Every level
# leaves at least 10× room over its worst.

# Two front doors into the same arithmetic on the same shapes: explain() and its one-row
# attribute(), the API and the library, input ids and their embeddings, a target/foil swap
# (the same sums, negated), a retarget reusing the predictions. Bit-equal on one machine's
# kernels, but a route may run on a thread with another torch thread count, which splits
# reductions differently: the API and the library differed by 1e-10 on a CPU without AVX-512.
# Direct logit attribution: the shares of every writer into the stream (hundreds of them on
# the default model) against the logit (difference) the model computed, or against a head's
# share worked out by hand from its slice of the output projection. The bound.
DLA = Tolerance("direct logit attribution routes", rtol=0.0, atol=1e-4)

# A few float32 ulps relative, 1e-9 absolute for scores near 0. Worst: 0 (bit-equal).
SAME_ARITHMETIC = Tolerance("same arithmetic", rtol=1e-6, atol=1e-9)

# Two fp32 routes on the tiny random test models (2 layers, width 32), grouping sums
# differently: rows batched or alone, a padded batch, the folded one-pass gradient against
# Captum's, a hand-written autograd, LXT's rules applied two ways. Sums of tens of terms: a few
# ulps of the values; 1e-6 absolute for scores that cancel to ~0. Worst: 6.7 % of it.
TINY_FP32 = Tolerance("tiny fp32 routes", rtol=1e-5, atol=1e-6)

# fp32 routes whose sums are longer: IG or SmoothGrad in a budget of one row per call against
# wide batches, positions' probabilities on the tiny models against a float64 reference.
# Worst: 4.8 % of it.
FP32 = Tolerance("fp32 routes", rtol=1e-4, atol=1e-5)

# fp32 routes on the default model (SmolLM2-135M: 30 layers, width 576, a softmax over 49,152
# logits): a probability of 0.71 read off positions' forward and off a plain one differed by
# 1.7e-5 (2.4e-5 relative) under AVX2 kernels, where the test had allowed 1e-5. Worst: 8 %.
DEFAULT_MODEL_FP32 = Tolerance("default-model fp32 routes", rtol=3e-4, atol=3e-5)

# A probability read off two routes (the evidence reader against the plain predictions on the
# same text; infill's cached rescoring against the core's): probabilities span decades, so
# relative; 1e-12 absolute only for an underflow. Worst: 1.9 % of it (2e-6 relative).
PROBABILITY = Tolerance("probability routes", rtol=1e-4, atol=1e-12)

# A whole next-token distribution from two routes (a KV-cached step against a full forward):
# absolute, since most of the vocabulary sits near 0, where a relative error means nothing
# (the log-probabilities are checked beside it). Worst: 3.6e-6, on the default model.
DISTRIBUTION = Tolerance("distribution routes", rtol=0.0, atol=5e-5)

# A log-probability (or a difference of two: a contrast, an occlusion score) from two forwards
# of a tiny test model over the same tokens: log_softmax subtracts a logsumexp of V logits, so
# its error is absolute, ~ulps of |log p| (4.8e-7 near −7). Worst: 9.2e-7.
LOG_PROB = Tolerance("log-prob routes", rtol=0.0, atol=1e-5)

# The same on the default model: IG's F(x) against a hand-written forward, a generated step's
# value against generate's, the reported IG delta against a recomputed one. Worst: 2.0e-5
# (AVX2 and plain kernels; 9e-6 under AVX-512), where the test had allowed 1e-4.
DEFAULT_MODEL_LOG_PROB = Tolerance("default-model log-prob routes", rtol=0.0, atol=3e-4)

# A log-probability put together from several forwards of a tiny model in one route and one in
# the other: transformers' generate, step by step with its KV cache, against a teacher-forced
# pass; a token-by-token sum; infill's rescored candidates. The steps' errors add. Worst: 3.8e-6.
CHAINED_LOG_PROB = Tolerance("chained log-prob routes", rtol=0.0, atol=1e-4)

# Every log-probability of the default model's vocabulary, down to ~1e-9, from a KV-cached
# step against a full forward: the log magnifies the last bits of tiny probabilities.
# Worst: 4.9e-5, where the test had allowed 1e-4.
TAIL_LOG_PROB = Tolerance("whole-vocabulary log-prob routes", rtol=0.0, atol=5e-4)

# An entropy in bits, −Σ p log2 p over the vocabulary, from the library's float32 softmax and
# a float64 reference: absolute like a log-probability, over V terms (49,152 on the default
# model). Worst: 7.6e-5 on the default model under AVX2, where the test had allowed 1e-4.
ENTROPY = Tolerance("entropy routes", rtol=0.0, atol=1e-3)

# transformers' own compute_transition_scores in float32 against WhyWord's float64 log-softmax
# on the default model: its float32 log-softmax over a strided 49k-token axis drifts.
# Worst: 2.95e-4 (the same under all three kernel sets), where the test had allowed 1e-3.
HF_FP32_TRANSITIONS = Tolerance("transformers' float32 transition scores", rtol=0.0, atol=3e-3)

# IG's scores with the held first token's keys and values computed once against feeding it on
# every path row, on the default model, as a fraction of the largest score: the cached prefix
# changes the attention's sums over 30 layers and IG adds them up. Worst: 6e-6 (0.3 % of it).
SCALED_IG_PREFIX = Tolerance("IG with a cached prefix, / max |score|", rtol=0.0, atol=2e-3)

# A point of a deletion / insertion curve, (F − F(empty)) / (F(full) − F(empty)), from two
# routes (one batched call against a loop of single forwards): dividing by the gap, a few
# hundredths on the tiny models, magnifies F's rounding. Curves run from 0 to 1.
# Worst: 2.7e-5 under the plain kernels (1.3e-5 under AVX-512), where the test had 2e-4.
CURVE = Tolerance("curve routes", rtol=0.0, atol=3e-4)

# A deletion / insertion *area* of a prompt explained in a padded batch of prompts of other
# lengths (a dataset run's batches) against the prompt alone: the padded rows round F a few ulps
# differently and the area divides by F(full) − F(empty), a few hundredths on the tiny models.
# Worst: 3.7e-4 under AVX2 kernels (0 under AVX-512 on the same machine), where TINY_FP32 had
# been used.
PADDED_CURVE = Tolerance("curve areas, padded batch vs alone", rtol=0.0, atol=2e-3)

# bf16 autocast against fp32 (tests/unit/runtime/test_precision.py): bf16 keeps 8 bits of
# mantissa, ~4e-3 relative per operation. F, a log-probability of a few nats, moves by a few hundredths
# (worst 1.2e-3); the curves' areas are held to the bound "auto" promises
# (whyword.runtime.precision.CURVE_BOUND; worst 1.4e-3); the heatmaps to ERROR_BOUND on the relative L2
# error, which is a norm, not an elementwise check.
BF16_VALUE = Tolerance("bf16 against fp32, F", rtol=0.0, atol=0.05)
BF16_CURVE = Tolerance("bf16 against fp32, curve areas", rtol=0.0, atol=CURVE_BOUND)

# Two bf16 autocast routes to one request (explain alone, beside others in a padded call, the
# scheduler, the Ray worker): bf16 keeps 8 bits of mantissa (~4e-3 relative a rounding), and a
# padded call or another batch size rounds its products at other places, so the same scores
# may differ by a few bf16 roundings. Worst: 8.4e-4 (10 % of it) with AVX-512 BF16 kernels;
# bit-equal under avx2 and default (tests/integration/test_engine.py).
BF16_ROUTES = Tolerance("bf16 routes", rtol=2e-2, atol=2e-3)

# The same request in a fresh process, whose torch thread count may differ from the test's:
# the same kernels, sums split across threads another way. float32 rounding. Worst: 0.
OTHER_PROCESS = Tolerance("another process", rtol=1e-5, atol=1e-7)

# float64 formula against float64 autograd (the evidence marginal's relevance gradient): both
# exact up to float64 rounding of a few terms. Worst: 3e-16.
FLOAT64 = Tolerance("float64 routes", rtol=1e-10, atol=1e-12)


def for_scores(method: str, tol: Tolerance) -> Tolerance:
    """`tol` for a method's scores, but occlusion's are differences of two values of F (a
    log-probability of a few nats): their rounding is F's, absolute, so at least LOG_PROB's.
    On the tiny models (F ≈ −7, one float32 ulp 4.8e-7) rows batched or alone differed by 1 ulp,
    half of TINY_FP32's 1e-6: too little room for another CPU."""
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
    or tensors, of one shape); NaN and ±inf must stand where the other has the same."""
    a, e = _array(actual), _array(expected)
    label = f"{what}: " if what else ""
    assert a.shape == e.shape, f"{label}shapes differ: {a.shape} vs {e.shape}"
    assert (np.isnan(a) == np.isnan(e)).all(), f"{label}NaN at different places"
    odd = ~np.isfinite(a) | ~np.isfinite(e)  # NaN or ±inf: compared above and here, not below
    assert (np.isinf(a) == np.isinf(e)).all() and (a[np.isinf(a)] == e[np.isinf(e)]).all(), (
        f"{label}infinities at different places"
    )
    diff = np.abs(np.subtract(a, e, out=np.zeros_like(a), where=~odd))  # same shape
    allowed = np.maximum(tol.atol, tol.rtol * np.abs(np.where(odd, 0.0, e)))  # same shape
    used = float((diff / allowed).max()) if diff.size else 0.0
    _log(tol, used, float(diff.max()) if diff.size else 0.0, what)
    if used > 1.0 and not os.environ.get("WHYWORD_TOLERANCE_MEASURE_ONLY"):
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff / allowed)), a.shape))
        raise AssertionError(
            f"{label}not within {tol.name} (rtol={tol.rtol:g}, atol={tol.atol:g}): at {worst} "
            f"{float(a[worst])!r} vs {float(e[worst])!r}, |diff| {diff[worst]:.3g} > allowed "
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
