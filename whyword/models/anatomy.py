"""Where a model keeps its residual stream: its blocks, and the head that reads the stream out.

The logit lens (whyword/tasks/layers.py) passes every block's output through what the model
itself applies after its last block — the final norm and the unembedding (a masked LM's
prediction head) — so the last row of the lens is the model's own logits. Architectures are
looked up by their attribute layout, not their names: the Llama family (Llama, Qwen2/3,
Mistral, Gemma: `model.layers`, `model.norm`, `lm_head`), GPT-2 (`transformer.h`,
`transformer.ln_f`), BERT (`bert.encoder.layer`, `cls`) and RoBERTa (`roberta.encoder.layer`,
`lm_head`). Any other gets one sentence.
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


@dataclass(frozen=True, eq=False)
class Anatomy:
    """A model's blocks and its read-out: hidden (…, H) after any block -> logits (…, V)."""

    blocks: torch.nn.ModuleList
    read_out: Callable[[torch.Tensor], torch.Tensor]
    family: str  # "llama", "gpt2", "bert", "roberta": how it was found


def anatomy(lm: LoadedModel) -> Anatomy:
    """The blocks and read-out of `lm`, or an InputError naming what is supported."""
    model = lm.model
    inner = getattr(model, "model", None)
    if lm.kind == "causal" and _has(inner, "layers", "norm") and _has(model, "lm_head"):
        softcap = getattr(model.config, "final_logit_softcapping", None)

        def llama(hidden: torch.Tensor) -> torch.Tensor:
            out = model.lm_head(inner.norm(hidden))  # (…, V)
            return out if not softcap else torch.tanh(out / softcap) * softcap

        return Anatomy(inner.layers, llama, "llama")
    body = getattr(model, "transformer", None)
    if lm.kind == "causal" and _has(body, "h", "ln_f") and _has(model, "lm_head"):
        return Anatomy(body.h, lambda h: model.lm_head(body.ln_f(h)), "gpt2")
    for family, head in (("bert", "cls"), ("roberta", "lm_head")):
        encoder = getattr(getattr(model, family, None), "encoder", None)
        if lm.kind == "masked" and _has(encoder, "layer") and _has(model, head):
            return Anatomy(encoder.layer, getattr(model, head), family)
    arch = type(model).__name__
    raise InputError(UNSUPPORTED.format(name=lm.name, arch=arch))


def _has(obj, *names: str) -> bool:
    return obj is not None and all(getattr(obj, n, None) is not None for n in names)
