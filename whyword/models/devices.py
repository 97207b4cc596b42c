"""Which device a model runs on: CUDA, then Apple MPS, then the CPU — or what the user says.

`WHYWORD_DEVICE` (and the CLI's `--device`) override the automatic choice. Every tensor a
method makes is made on the model's device (`LoadedModel.device`).
"""

from __future__ import annotations

import os

import torch

from whyword.errors import InputError, shown
from whyword.runtime import settings


def pick_device(requested: str | None = None) -> torch.device:
    """`auto` (the default): cuda if available, else mps, else cpu; or a torch device name."""
    name = (requested or settings.DEVICE.get()).strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise InputError(
            f"Unknown device {shown(name)}: use auto, cpu, cuda, cuda:N or mps."
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError("CUDA was asked for but no CUDA GPU is available here; use cpu or auto.")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InputError("MPS was asked for but Apple's GPU backend is not available here.")
    return device


def on_gpu_space(fn):
    """On a Hugging Face Space with ZeroGPU (the `spaces` package), run `fn` inside
    `@spaces.GPU`; anywhere else, `fn` unchanged."""
    if not os.environ.get("SPACE_ID"):
        return fn
    try:
        import spaces  # type: ignore[import-not-found]
    except ImportError:
        return fn
    return spaces.GPU(fn)
