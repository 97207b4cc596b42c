"""tests/tolerances.py itself: assert_close passes inside its tolerance and fails outside it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tests.tolerances import FP32, LOG_PROB, Tolerance, assert_close, for_scores


def test_inside_passes_and_just_outside_fails() -> None:
    assert_close(1.0 + 0.99e-4, 1.0, FP32)  # rtol 1e-4 of 1.0
    with pytest.raises(AssertionError, match="not within fp32 routes"):
        assert_close(1.0 + 1.01e-4, 1.0, FP32)
    assert_close([0.0, 0.99e-5], [0.0, 0.0], FP32)  # atol 1e-5 near 0
    with pytest.raises(AssertionError, match=r"at \(1,\)"):
        assert_close([0.0, 1.01e-5], [0.0, 0.0], FP32)


def test_the_larger_of_the_two_bounds_counts_as_pytest_approx_does() -> None:
    for value in (3e-5, 0.5, 7.0, -20.0):
        bound = max(FP32.atol, FP32.rtol * abs(value))
        assert_close(value + 0.9 * bound, value, FP32)
        assert (value + 1.1 * bound) != pytest.approx(value, rel=FP32.rtol, abs=FP32.atol)
        with pytest.raises(AssertionError):
            assert_close(value + 1.1 * bound, value, FP32)


def test_tensors_arrays_and_nested_lists_with_none_as_nan() -> None:
    x = torch.tensor([[1.0, float("nan")], [2.0, 3.0]])  # (2, 2)
    assert_close(x, np.array([[1.0, np.nan], [2.0, 3.0]]), LOG_PROB)
    assert_close([[1.0, None], [2.0, 3.0]], x, LOG_PROB)  # JSON's null: out of context
    with pytest.raises(AssertionError, match="NaN at different places"):
        assert_close([1.0, math.nan], [1.0, 2.0], LOG_PROB)
    with pytest.raises(AssertionError, match="shapes differ"):
        assert_close([1.0, 2.0], [1.0], LOG_PROB)


def test_infinities_must_match() -> None:
    assert_close([-math.inf, -1.0], [-math.inf, -1.0], LOG_PROB)
    with pytest.raises(AssertionError, match="infinities"):
        assert_close([-math.inf, -1.0], [-1.0, -1.0], LOG_PROB)
    with pytest.raises(AssertionError, match="infinities"):
        assert_close([math.inf], [-math.inf], LOG_PROB)


def test_a_tolerance_needs_an_absolute_floor() -> None:
    with pytest.raises(ValueError, match="atol > 0"):
        Tolerance("relative only", rtol=1e-4, atol=0.0)


def test_occlusion_scores_get_a_log_probs_absolute_tolerance() -> None:
    tight = Tolerance("tight", rtol=1e-5, atol=1e-6)
    assert for_scores("saliency", tight) is tight
    assert for_scores("occlusion", tight).atol == LOG_PROB.atol
    assert for_scores("occlusion", FP32) is FP32  # already as loose
