"""Where a model keeps its residual stream: its blocks, what writes into the stream inside each
block (attention heads through an output projection, an MLP), and the head that reads it out.

The logit lens (whyword/tasks/layers.py) passes every block's output through what the model
itself applies after its last block — the final norm and the unembedding (a masked LM's
prediction head) — so the last row of the lens is the model's own logits. Direct logit
attribution (whyword/tasks/components.py) needs more: the heads' outputs before they are
mixed (the output projection's input), the MLPs' outputs, and a stream that is their sum
(pre-norm blocks). Architectures are looked up by their attribute layout, not their names:
the Llama family (Llama, Qwen2/3, Mistral, Gemma: `model.layers`, `model.norm`, `lm_head`),
GPT-2 (`transformer.h`, `transformer.ln_f`), BERT (`bert.encoder.layer`, `cls`) and RoBERTa
(`roberta.encoder.layer`, `lm_head`). Any other gets one sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from whyword.errors import InputError
from whyword.models.load import LoadedModel

UNSUPPORTED = (
    "The layers view knows the Llama / Qwen / Gemma family, GPT-2, BERT and RoBERTa; "
    "'{name}' ({arch}) keeps its layers elsewhere."
)
POST_NORM = (
    "'{name}' normalises its stream after every block (BERT-style), so the stream is not a sum "
    "of what its heads and MLPs wrote: direct logit attribution needs a pre-norm model "
    "(the Llama family, GPT-2)."
)


@dataclass(frozen=True, eq=False)
class Block:
    """What one block writes into the residual stream."""

    attention: torch.nn.Module
    out_proj: torch.nn.Module  # its input (…, heads · head_dim) is the heads side by side
    out_weight: torch.Tensor  # (H, heads · head_dim): out = z @ out_weight.T (+ out_bias)
    out_bias: torch.Tensor | None  # (H,)
    mlp: torch.nn.Module | None  # its output is what the MLP adds (after post_mlp, if any)
    post_attention: torch.nn.Module | None  # Gemma 2/3: a norm on the branch before the add
    post_mlp: torch.nn.Module | None


@dataclass(frozen=True, eq=False)
class Anatomy:
    """A model's blocks and its read-out: hidden (…, H) after any block -> logits (…, V)."""

    blocks: torch.nn.ModuleList
    read_out: Callable[[torch.Tensor], torch.Tensor]
    family: str  # "llama", "gpt2", "bert", "roberta": how it was found
    final_norm: torch.nn.Module | None = None  # pre-norm models: the norm before the read-out
    unembed: torch.Tensor | None = None  # (V', H): the read-out's weight (no bias)
    heads: int = 0
    head_dim: int = 0
    softcap: float | None = None  # Gemma 2: logits = cap · tanh(z / cap)

    @property
    def additive(self) -> bool:
        """Whether the final stream is the sum of what each block's branches wrote."""
        return self.final_norm is not None and self.unembed is not None

    def block(self, index: int) -> Block:
        """The parts of block `index` (0-based) that write into the stream."""
        layer = self.blocks[index]
        if self.family == "llama":
            attn, mlp = layer.self_attn, layer.mlp
            proj = attn.o_proj
            weight = proj.weight  # (H, heads · d)
            sandwich = getattr(layer, "post_feedforward_layernorm", None) is not None
            post_attn = layer.post_attention_layernorm if sandwich else None
            post_mlp = layer.post_feedforward_layernorm if sandwich else None
        elif self.family == "gpt2":
            attn, mlp = layer.attn, layer.mlp
            proj = attn.c_proj
            weight = proj.weight.T  # Conv1D keeps (in, out): (H, heads · d)
            post_attn = post_mlp = None
        else:
            raise AssertionError("only pre-norm models have blocks to decompose")
        return Block(attn, proj, weight, proj.bias, mlp, post_attn, post_mlp)


def anatomy(lm: LoadedModel) -> Anatomy:
    """The blocks and read-out of `lm`, or an InputError naming what is supported."""
    model = lm.model
    config = model.config
    inner = getattr(model, "model", None)
    heads = getattr(config, "num_attention_heads", None) or getattr(config, "n_head", 0)
    if lm.kind == "causal" and _has(inner, "layers", "norm") and _has(model, "lm_head"):
        softcap = getattr(config, "final_logit_softcapping", None)

        def llama(hidden: torch.Tensor) -> torch.Tensor:
            out = model.lm_head(inner.norm(hidden))  # (…, V)
            return out if not softcap else torch.tanh(out / softcap) * softcap

        dim = getattr(config, "head_dim", None) or config.hidden_size // heads
        unembed = model.lm_head.weight if getattr(model.lm_head, "bias", None) is None else None
        return Anatomy(inner.layers, llama, "llama", inner.norm, unembed, heads, dim, softcap)
    body = getattr(model, "transformer", None)
    if lm.kind == "causal" and _has(body, "h", "ln_f") and _has(model, "lm_head"):
        return Anatomy(
            body.h,
            lambda h: model.lm_head(body.ln_f(h)),
            "gpt2",
            body.ln_f,
            model.lm_head.weight,
            heads,
            config.hidden_size // heads,
        )
    for family, head in (("bert", "cls"), ("roberta", "lm_head")):
        encoder = getattr(getattr(model, family, None), "encoder", None)
        if lm.kind == "masked" and _has(encoder, "layer") and _has(model, head):
            return Anatomy(encoder.layer, getattr(model, head), family, heads=heads)
    arch = type(model).__name__
    raise InputError(UNSUPPORTED.format(name=lm.name, arch=arch))


def decomposable(lm: LoadedModel) -> Anatomy:
    """The anatomy of `lm` if its stream is a sum of its blocks' writes, else an InputError."""
    body = anatomy(lm)
    if not body.additive:
        raise InputError(POST_NORM.format(name=lm.name))
    return body


def _has(obj, *names: str) -> bool:
    return obj is not None and all(getattr(obj, n, None) is not None for n in names)
