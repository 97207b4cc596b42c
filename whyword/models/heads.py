"""Where each block's attention heads read their values and write their outputs, and how much
each token's information a head moved.

For head h of a block at a position p, the head writes Σ_j α_{p,j} · (v_j W_O,h) into the
stream (before any bias of the output projection, which belongs to no head): v_j is token j's
value vector for that head and W_O,h the head's slice of the output projection. The *moved
norm* of token j is ‖α_{p,j} · v_j W_O,h‖ = α_{p,j} · ‖v_j W_O,h‖ (α ≥ 0), as the LLM
Transparency Tool shows it: attention says where a head looked, the moved norm how much of
that token it carried. Grouped-query attention (the Llama family) shares a value head between
`heads / kv_heads` query heads: head h reads value head h // (heads / kv_heads), as
transformers' `repeat_kv` does. GPT-2 keeps q, k and v side by side in one `c_attn` output;
BERT and RoBERTa have a `value` projection. BERT's stream is normalised after each block, and
Gemma 2/3 normalise the attention's branch before adding it, so there a moved norm measures
what the head wrote before that norm.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from whyword.models.anatomy import Anatomy


@dataclass(frozen=True, eq=False)
class HeadParts:
    """One block's attention: the module whose output is (out, weights), where its values are
    computed, and the output projection's weight, heads side by side."""

    attention: torch.nn.Module  # its forward returns (output, weights (B, heads, T, T) | None)
    value_source: torch.nn.Module  # its output holds the values
    values: Callable[[torch.Tensor], torch.Tensor]  # that output (1, T, ·) -> (T, kv, d)
    out_weight: torch.Tensor  # (H, heads · d): out = z @ out_weight.T (+ bias)
    heads: int
    kv_heads: int
    head_dim: int

    def __post_init__(self) -> None:
        assert self.heads % self.kv_heads == 0, "each value head serves whole groups"
        assert self.out_weight.shape[1] == self.heads * self.head_dim


def head_parts(body: Anatomy, index: int) -> HeadParts:
    """Block `index`'s (0-based) attention heads, for the families `anatomy` knows."""
    heads, dim = body.heads, body.head_dim
    if body.family == "llama":
        block = body.block(index)
        proj = block.attention.v_proj
        kv = proj.out_features // dim
        return HeadParts(block.attention, proj, _split(kv, dim), block.out_weight, heads, kv, dim)
    if body.family == "gpt2":
        block = body.block(index)
        width = heads * dim

        def gpt2(out: torch.Tensor) -> torch.Tensor:  # (1, T, 3 · width): q, k, v
            return out[0, :, 2 * width :].reshape(-1, heads, dim)  # (T, heads, d)

        return HeadParts(
            block.attention, block.attention.c_attn, gpt2, block.out_weight, heads, heads, dim
        )
    layer = body.blocks[index]  # BERT / RoBERTa: post-norm, no Block of its own
    inner = layer.attention.self
    dim = inner.attention_head_size
    weight = layer.attention.output.dense.weight  # (H, heads · d)
    return HeadParts(inner, inner.value, _split(heads, dim), weight, heads, heads, dim)


def _split(kv: int, dim: int) -> Callable[[torch.Tensor], torch.Tensor]:
    def values(out: torch.Tensor) -> torch.Tensor:  # (1, T, kv · d)
        return out[0].reshape(out.shape[1], kv, dim)  # (T, kv, d)

    return values


def value_norms(parts: HeadParts, values: torch.Tensor) -> torch.Tensor:
    """‖v_j W_O,h‖ for every head h and token j: (heads, T), from values (T, kv, d)."""
    group = parts.heads // parts.kv_heads
    per_head = values.float().repeat_interleave(group, dim=1)  # (T, heads, d): h -> h // group
    w = parts.out_weight.float().reshape(-1, parts.heads, parts.head_dim)  # (H, heads, d)
    written = torch.einsum("thd,khd->htk", per_head, w)  # (heads, T, H): v_j W_O,h
    return written.norm(dim=-1)  # (heads, T)


def neurons(body: Anatomy, index: int) -> torch.nn.Module:
    """Block `index`'s MLP down projection: its input (…, I) is the MLP's neurons (after the
    activation, and the gate's product in the Llama family)."""
    mlp = body.block(index).mlp
    return mlp.down_proj if body.family == "llama" else mlp.c_proj
