"""Arithmetic precision of the forward/backward work: fp32, or bf16 under `torch.autocast`.

bf16 autocast (not bf16 weights: casting the weights was slower on the CPU measured) halves
a batched forward+backward on a CPU with native bf16 matrix units (AVX-512 BF16 or AMX), and
on CUDA GPUs that support it. Everything a request computes — predictions, every F
evaluation of every method, IG's completeness check, faithfulness — runs in the same context,
so IG's completeness is still measured on the very function it attributes.

"auto" picks bf16 only where the hardware has it natively AND `AUTO_BF16` is on: the
per-token error against fp32 measured in benchmarks/calibrate/precision.py must stay within
`ERROR_BOUND` (docs/performance.md) for that.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from whyword.errors import InputError, shown
from whyword.runtime.options import CURVE_BOUND, PRECISIONS

__all__ = ["CURVE_BOUND", "ERROR_BOUND", "autocast", "bf16_native", "curves", "resolve", "stage"]

# The bound "auto" is held to: the mean, over prompts, of each method's relative L2 error
# ‖s_bf16 − s_fp32‖ / ‖s_fp32‖ per row; measured in benchmarks/calibrate/precision.py (docs/performance.md)
ERROR_BOUND = 0.05
AUTO_BF16 = False  # set from the measurement: see docs/performance.md


def bf16_native(device: torch.device) -> bool:
    """Does this device run bf16 matrix products in hardware (not emulated)?"""
    if device.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        caps = torch.cpu.get_capabilities() if hasattr(torch.cpu, "get_capabilities") else {}
        return bool(caps.get("avx512_bf16") or caps.get("amx_bf16"))
    return False


def resolve(precision: str, device: torch.device) -> str:
    """ "fp32" or "bf16" for this device; bf16 asked for where it is not native is refused."""
    if precision not in PRECISIONS:
        raise InputError(
            f"Unknown precision {shown(precision)}. Choose from: {', '.join(PRECISIONS)}."
        )
    if precision == "auto":
        return "bf16" if AUTO_BF16 and bf16_native(device) else "fp32"
    if precision == "bf16" and not bf16_native(device):
        raise InputError(
            f"This {device.type.upper()} has no native bf16 (AVX-512 BF16, AMX or a bf16 GPU): "
            "use precision fp32."
        )
    return precision


@contextlib.contextmanager
def autocast(precision: str, device: torch.device) -> Iterator[str]:
    """Run the block in the resolved precision; yields "fp32" or "bf16"."""
    chosen = resolve(precision, device)
    if chosen == "fp32":
        yield chosen
        return
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
        yield chosen


# The deletion / insertion curves (whyword/engine/faithfulness.py) are forward-only rows, most of a
# page request's work; bf16 moves each area by at most `CURVE_BOUND` against fp32 on the
# prompts of benchmarks/calibrate/curve_precision.py (docs/performance.md), so "auto" runs them in bf16
# where it is native, while the heatmaps keep fp32 (their error is above ERROR_BOUND).
AUTO_CURVES_BF16 = True  # set from the measurement: see docs/performance.md


def curves(precision: str, device: torch.device) -> str:
    """The curves' precision for a request asking for `precision`: "fp32" or "bf16"."""
    if precision == "auto":
        return "bf16" if AUTO_CURVES_BF16 and bf16_native(device) else resolve("auto", device)
    return resolve(precision, device)


@contextlib.contextmanager
def stage(chosen: str, device: torch.device) -> Iterator[None]:
    """Run a block in an already resolved precision, whatever the surrounding one is."""
    assert chosen in ("fp32", "bf16"), chosen
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=chosen == "bf16"):
        yield
