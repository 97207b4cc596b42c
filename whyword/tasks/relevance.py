"""`component_relevance`: which heads, MLPs and MLP neurons AttnLRP finds relevant to the
target's logit (or the target − foil difference) at one position — LXT's latent relevance,
one forward and one backward under its rules (whyword/attr/latent.py)."""

from __future__ import annotations

import torch

from whyword.attr.attnlrp import why_not
from whyword.attr.latent import latent_relevance
from whyword.errors import InputError, shown
from whyword.models.anatomy import decomposable
from whyword.models.encoding import encode
from whyword.models.load import LoadedModel, load_model
from whyword.results.attention import ComponentRelevance, Neuron
from whyword.tasks.reading import first_token, read_position
from whyword.text.tokens import make_tokens

WHAT = "the relevance explains the logit of"


def component_relevance(
    text: str,
    target: int | str | None = None,
    foil: int | str | None = None,
    position: int | None = None,
    neurons: int = 10,
    model: str | LoadedModel | None = None,
) -> ComponentRelevance:
    """AttnLRP relevance of every attention head, every MLP and the top `neurons` MLP neurons
    for the target's logit (default: the model's top-1; a word of several tokens: its first)
    — or the target − foil logit difference — at `position` of `text` (default: the last
    token). Causal models LXT has verified rules for (the Llama / Qwen family, GPT-2)."""
    if isinstance(neurons, bool) or not isinstance(neurons, int) or not 0 <= neurons <= 1000:
        raise InputError(f"neurons must be a whole number from 0 to 1000, got {shown(neurons)}.")
    lm = load_model(model)
    reason = why_not(lm)
    if reason is not None:
        raise InputError(reason.replace("; pick another method", ""))
    enc = encode(lm, text)
    if enc.mode != "next_token":
        raise InputError("Component relevance reads a causal model's next token: no [MASK].")
    at = read_position(enc, position)
    body = decomposable(lm)
    ids = torch.tensor([enc.ids], device=lm.device)  # (1, T)
    notes: list[str] = []
    chosen: dict[str, tuple[int, str] | None] = {}

    def score(logits: torch.Tensor) -> torch.Tensor:  # (1, T, V') -> (): F
        row = logits[0, at].float()  # (V',)
        top1 = int(row[: lm.vocab_size].argmax())
        chosen["target"] = first_token(lm, enc, target, top1, "target", notes, WHAT)
        chosen["foil"] = None
        if foil not in (None, ""):
            chosen["foil"] = first_token(lm, enc, foil, top1, "foil", notes, WHAT)
        value = row[chosen["target"][0]]  # ()
        return value if chosen["foil"] is None else value - row[chosen["foil"][0]]

    with lm.lock:
        found = latent_relevance(lm, body, ids, score)
    tgt, fl = chosen["target"], chosen["foil"]
    return ComponentRelevance(
        model=lm.name,
        text=text,
        tokens=make_tokens(lm.tokenizer, enc.ids),
        position=at,
        target=tgt[1],
        target_id=tgt[0],
        foil=fl[1] if fl else None,
        foil_id=fl[0] if fl else None,
        objective="logit" if fl is None else "logit difference",
        value=found.value,
        heads=tuple(tuple(r) for r in found.heads.tolist()),
        attention=tuple(found.attention.tolist()),
        mlps=tuple(found.mlps.tolist()),
        neurons=_top_neurons(found.neurons, neurons),
        token_relevance=tuple(found.tokens.tolist()),
        layers=len(body.blocks),
        n_heads=body.heads,
        notes=tuple(notes),
    )


def _top_neurons(cells: torch.Tensor, n: int) -> tuple[Neuron, ...]:
    """The `n` neurons of largest |relevance| over every layer's (L, I)."""
    flat = cells.flatten()  # (L · I,)
    order = flat.abs().argsort(descending=True)[:n]  # (n,)
    width = cells.shape[1]
    return tuple(
        Neuron(int(i) // width + 1, int(i) % width, float(flat[i])) for i in order.tolist()
    )


