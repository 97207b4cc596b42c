"""Any device: every tensor WhyWord makes is made on the model's device."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from torch.overrides import TorchFunctionMode

import whyword as ww
from whyword.models.devices import pick_device

PACKAGE = str(Path(ww.__file__).resolve().parent)
FACTORIES = {
    torch.tensor,
    torch.zeros,
    torch.ones,
    torch.empty,
    torch.full,
    torch.arange,
    torch.linspace,
    torch.rand,
    torch.randn,
    torch.eye,
}


class DeviceProbe(TorchFunctionMode):
    """Records every factory call made *from WhyWord's code* without an explicit device:
    on a GPU such a tensor would land on the CPU beside a CUDA model."""

    def __init__(self) -> None:
        super().__init__()
        self.missing: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in FACTORIES and kwargs.get("device") is None:
            frame = sys._getframe(1)
            while frame is not None and "/torch/" in frame.f_code.co_filename:
                frame = frame.f_back
            if frame is not None and frame.f_code.co_filename.startswith(PACKAGE):
                self.missing.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {func.__name__}")
        return func(*args, **kwargs)


@pytest.mark.parametrize("method", sorted(ww.METHODS))
def test_no_method_makes_a_tensor_off_the_model_device(tiny_gpt2, method):
    probe = DeviceProbe()
    with probe:
        ww.explain(
            "The capital of France is",
            methods=(method,),
            model=tiny_gpt2,
            n_steps=8,
            max_steps=16,
            nt_samples=2,
        )
    assert probe.missing == []


@pytest.mark.parametrize(
    ("text", "model"),
    [("The capital of [MASK] is Paris.", "tiny_bert"), ("The [MASK] of France.", "tiny_gpt2")],
)
def test_masks_and_infill_make_no_tensor_off_the_model_device(text, model, request):
    lm = request.getfixturevalue(model)
    probe = DeviceProbe()
    with probe:
        ww.explain(text, methods=("saliency", "occlusion"), model=lm)
    assert probe.missing == []


def test_the_probe_catches_a_tensor_made_without_a_device():
    probe = DeviceProbe()
    with probe:
        from whyword.models import devices

        exec(compile("import torch\ntorch.zeros(2)", devices.__file__, "exec"), {})
    assert len(probe.missing) == 1


def test_device_choice(monkeypatch):
    monkeypatch.delenv("WHYWORD_DEVICE", raising=False)
    assert pick_device().type in {"cuda", "mps", "cpu"}
    assert pick_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("WHYWORD_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")
    with pytest.raises(ww.InputError, match="Unknown device"):
        pick_device("not-a-device")
    if not torch.cuda.is_available():
        with pytest.raises(ww.InputError, match="no CUDA GPU"):
            pick_device("cuda")


def test_a_model_moves_to_the_device_asked_for(tiny_paths):
    lm = ww.load_model(tiny_paths["gpt2"], device="cpu")
    assert lm.device == torch.device("cpu")
    assert lm.model.get_input_embeddings().weight.device == lm.device
