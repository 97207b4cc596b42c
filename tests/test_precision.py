"""Precision: fp32 by default, bf16 autocast close to fp32, part of the result-cache key."""

from __future__ import annotations

import pytest
import torch

import whyword as ww
from whyword import precision
from whyword.cache import request_key
from whyword.errors import InputError

TEXT = "The capital of France is"
native = pytest.mark.skipif(
    not precision.bf16_native(torch.device("cpu")), reason="this CPU has no native bf16"
)


def test_fp32_is_the_default_everywhere():
    from whyword.cli import _parser

    assert ww.ExplainOptions().precision == "fp32"
    args = _parser().parse_args(["explain", "x"])
    assert args.precision == "fp32"
    if not precision.AUTO_BF16:
        assert precision.resolve("auto", torch.device("cpu")) == "fp32"


def test_unknown_or_unsupported_precision_is_one_clear_error(monkeypatch):
    with pytest.raises(InputError, match="Unknown precision"):
        ww.ExplainOptions(precision="fp16")
    monkeypatch.setattr(precision, "bf16_native", lambda device: False)
    with pytest.raises(InputError, match="no native bf16"):
        precision.resolve("bf16", torch.device("cpu"))
    assert precision.resolve("auto", torch.device("cpu")) == "fp32"


def test_precision_is_part_of_the_cache_key(tiny_gpt2):
    keys = {
        request_key("explain", tiny_gpt2, TEXT, options=ww.ExplainOptions(precision=p))
        for p in precision.PRECISIONS
    }
    assert len(keys) == 3


@native
def test_autocast_runs_the_block_in_bf16_and_fp32_stays_fp32():
    a = torch.randn(4, 4)  # (4, 4)
    with precision.autocast("bf16", torch.device("cpu")) as chosen:
        assert chosen == "bf16" and (a @ a).dtype == torch.bfloat16
    with precision.autocast("fp32", torch.device("cpu")) as chosen:
        assert chosen == "fp32" and (a @ a).dtype == torch.float32


@native
@pytest.mark.parametrize("method", ["saliency", "input_x_gradient", "integrated_gradients"])
def test_bf16_scores_are_close_to_fp32(tiny_gpt2, method):
    f32 = ww.explain(TEXT, methods=method, model=tiny_gpt2)
    b16 = ww.explain(TEXT, f32.target_ids[0], methods=method, model=tiny_gpt2, precision="bf16")
    a = torch.tensor(f32.attributions[0].scores)  # (T,)
    b = torch.tensor(b16.attributions[0].scores)  # (T,)
    assert not torch.equal(a, b)  # bf16 really ran
    assert float((b - a).norm() / a.norm()) <= precision.ERROR_BOUND
    assert b16.value == pytest.approx(f32.value, abs=0.05)
    ig = b16.attributions[0].relative_error
    if ig is not None:  # completeness measured on the bf16 F itself
        assert ig <= b16.params["ig_tolerance"]
