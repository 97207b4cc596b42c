"""A norm frozen at a point is a linear map that gives the norm's own output at that point."""

from __future__ import annotations

import pytest
import torch
from transformers.models.gemma.modeling_gemma import GemmaRMSNorm
from transformers.models.llama.modeling_llama import LlamaRMSNorm

from tests.tolerances import TINY_FP32, assert_close
from whyword.errors import InputError
from whyword.models.norms import freeze


def _norms():
    torch.manual_seed(0)
    layer = torch.nn.LayerNorm(16)
    rms, gemma = LlamaRMSNorm(16, eps=1e-6), GemmaRMSNorm(16, eps=1e-6)
    with torch.no_grad():
        for norm in (layer, rms, gemma):
            norm.weight.normal_()
        layer.bias.normal_()
    return {"layernorm": layer, "rmsnorm": rms, "gemma": gemma}


@pytest.mark.parametrize("kind", ["layernorm", "rmsnorm", "gemma"])
def test_the_parts_through_the_frozen_norm_add_up_to_the_norm_of_their_sum(kind):
    norm = _norms()[kind]
    parts = torch.randn(3, 5, 16) * 4  # (P, N, H): five parts at three positions
    stream = parts.sum(1)  # (P, H)
    frozen = freeze(norm, stream)
    out = frozen.apply(parts).sum(1)  # (P, H)
    if frozen.bias is not None:
        out = out + frozen.bias
    with torch.no_grad():
        assert_close(out, norm(stream), TINY_FP32)


def test_an_unknown_norm_is_one_sentence():
    with pytest.raises(InputError, match="does not know the norm Identity"):
        freeze(torch.nn.Identity(), torch.randn(1, 4))
