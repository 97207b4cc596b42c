"""Precision: auto by default (heatmaps fp32, curves bf16 where native), bf16 autocast close
to fp32, part of the result-cache key."""

from __future__ import annotations

import pytest
import torch

import whyword as ww
from tests.tolerances import BF16_CURVE, BF16_VALUE, assert_close
from whyword.engine.cache import request_key
from whyword.errors import InputError
from whyword.runtime import precision

TEXT = "The capital of France is"
native = pytest.mark.skipif(
    not precision.bf16_native(torch.device("cpu")), reason="this CPU has no native bf16"
)


def test_auto_is_the_default_and_keeps_the_heatmaps_in_fp32():
    from whyword.cli.main import _parser

    assert ww.ExplainOptions().precision == "auto"
    args = _parser().parse_args(["explain", "x"])
    assert args.precision == "auto"
    if not precision.AUTO_BF16:
        assert precision.resolve("auto", torch.device("cpu")) == "fp32"


@pytest.mark.parametrize("native_bf16", [True, False])
def test_the_curves_run_in_bf16_only_where_native_and_never_under_fp32(monkeypatch, native_bf16):
    monkeypatch.setattr(precision, "bf16_native", lambda device: native_bf16)
    cpu = torch.device("cpu")
    want = "bf16" if native_bf16 and precision.AUTO_CURVES_BF16 else "fp32"
    assert precision.curves("auto", cpu) == want
    assert precision.curves("fp32", cpu) == "fp32"  # --precision fp32: everything fp32


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


@pytest.mark.numerics
@native
@pytest.mark.parametrize("method", ["saliency", "input_x_gradient", "integrated_gradients"])
def test_bf16_scores_are_close_to_fp32(tiny_gpt2, method):
    f32 = ww.explain(TEXT, methods=method, model=tiny_gpt2)
    b16 = ww.explain(TEXT, f32.target_ids[0], methods=method, model=tiny_gpt2, precision="bf16")
    a = torch.tensor(f32.attributions[0].scores)  # (T,)
    b = torch.tensor(b16.attributions[0].scores)  # (T,)
    assert not torch.equal(a, b)  # bf16 really ran
    assert float((b - a).norm() / a.norm()) <= precision.ERROR_BOUND
    assert_close(b16.value, f32.value, BF16_VALUE)
    ig = b16.attributions[0].relative_error
    if ig is not None:  # completeness measured on the bf16 F itself
        assert ig <= b16.params["ig_tolerance"]


@pytest.mark.numerics
@native
def test_bf16_curves_are_close_to_fp32_and_say_so(tiny_gpt2):
    text = "The capital of France is Paris. The capital of Italy is"
    runs = {  # the same heatmaps, curves in two precisions
        p: ww.explain(
            text,
            3,
            methods=("saliency", "occlusion"),
            model=tiny_gpt2,
            precision=p,
            faithfulness=True,
        )
        for p in ("fp32", "auto")
    }
    for a, b in zip(runs["fp32"].attributions, runs["auto"].attributions, strict=True):
        assert a.scores == b.scores  # auto keeps the heatmaps in fp32
        assert (a.curve_precision, b.curve_precision) == ("fp32", "bf16")
        assert a.deletion_curve != b.deletion_curve  # bf16 really ran
        assert b.deletion_curve[0] == 1.0 and b.deletion_curve[-1] == 0.0  # ends: one function
        assert_close(b.deletion, a.deletion, BF16_CURVE, "deletion")
        assert_close(b.insertion, a.insertion, BF16_CURVE, "insertion")
