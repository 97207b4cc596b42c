"""A normalisation layer with its scale frozen: the linear map it applies at one point.

Direct logit attribution splits the stream that reaches the read-out into the parts that
wrote it (embeddings, heads, MLPs). A norm is not linear in its input, so each part is passed
through the norm *as it acted on the whole stream*: the scale (1 / rms, or 1 / std after
centring) is frozen at its value on the full pass, which makes the norm linear and the parts
add up to exactly what the read-out saw. RMSNorm (Llama, Qwen, Mistral; Gemma's `1 + w`
gain) and LayerNorm (GPT-2) are known; any other norm gets one sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from whyword.errors import InputError


@dataclass(frozen=True, eq=False)
class FrozenNorm:
    """norm(x) = centre(x) · gain + bias at the point it was frozen; linear in x."""

    gain: torch.Tensor  # (P, H): the norm's weight × its frozen scale, per position
    bias: torch.Tensor | None  # (H,): LayerNorm's shift (a constant part of the output)
    centred: bool  # LayerNorm subtracts the mean first (a linear map too)
    scale: torch.Tensor  # (P,): the frozen 1 / rms (or 1 / std), to state in results

    def apply(self, parts: torch.Tensor) -> torch.Tensor:
        """Each part (P, N, H) through the frozen norm, without the bias: (P, N, H)."""
        if self.centred:
            parts = parts - parts.mean(-1, keepdim=True)  # (P, N, H)
        return parts * self.gain[:, None, :]  # (P, N, H)


def freeze(norm: torch.nn.Module, stream: torch.Tensor) -> FrozenNorm:
    """`norm` frozen at `stream` (P, H), the full pass's input to it at P positions."""
    x = stream.float()  # (P, H)
    weight = getattr(norm, "weight", None)
    if isinstance(norm, torch.nn.LayerNorm):
        eps = norm.eps
        scale = torch.rsqrt(x.var(-1, unbiased=False) + eps)  # (P,)
        w = weight.float() if weight is not None else torch.ones_like(x[0])  # (H,)
        bias = norm.bias.float() if norm.bias is not None else None  # (H,)
        return FrozenNorm(scale[:, None] * w, bias, True, scale)
    eps = getattr(norm, "variance_epsilon", getattr(norm, "eps", None))
    if weight is None or eps is None or getattr(norm, "bias", None) is not None:
        raise InputError(f"Direct logit attribution does not know the norm {type(norm).__name__}.")
    w = weight.float() + (1.0 if "Gemma" in type(norm).__name__ else 0.0)  # (H,)
    scale = torch.rsqrt(x.pow(2).mean(-1) + eps)  # (P,)
    return FrozenNorm(scale[:, None] * w, None, False, scale)
