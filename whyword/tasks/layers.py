"""`layers`: what each layer predicts — the logit lens at one position, with the target's (and
a foil's) probability and rank after every block.

One forward with hooks (whyword/models/calls.residual_streams) keeps the residual stream at the
lens position only; each layer's row is that stream read out by the model's own final norm and
unembedding (whyword/models/anatomy.py), so the last row is the model's logits.
"""

from __future__ import annotations

import torch

from whyword.engine import targets
from whyword.engine.predict import top_candidates
from whyword.errors import InputError, shown
from whyword.models import calls as model_calls
from whyword.models.anatomy import anatomy
from whyword.models.encoding import encode
from whyword.models.load import LoadedModel, load_model
from whyword.results.layers import LayerLens, LayerRow
from whyword.text.tokens import make_tokens, token_text

MULTI_TOKEN = (
    "{role} {text!r} has {n} tokens; a layer predicts one token at a time, so the lens follows "
    "its first, {first!r}."
)


def layers(
    text: str,
    target: int | str | None = None,
    foil: int | str | None = None,
    position: int | None = None,
    k: int = 5,
    model: str | LoadedModel | None = None,
) -> LayerLens:
    """What each layer of `model` predicts at `position` of `text` (default: the last token
    of a causal model, the first `[MASK]` of a masked one): the top-k tokens of the logit lens
    after the embeddings and after every block, and the target's (default: the model's
    top-1) and foil's probability and rank there."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 100:
        raise InputError(f"k must be a whole number from 1 to 100, got {shown(k)}.")
    lm = load_model(model)
    enc = encode(lm, text)
    if enc.mode == "infill":
        raise InputError("The layers view reads one position: a [MASK] needs a masked model.")
    at = _position(enc, position, lm)
    body = anatomy(lm)
    ids = torch.tensor([enc.ids], device=lm.device)  # (1, T)
    where = torch.tensor([at], device=lm.device)  # (1,)
    with lm.lock, torch.no_grad():
        streams, own = model_calls.residual_streams(lm, body.blocks, ids, where)  # (L+1, 1, H)
        lens = body.read_out(streams[:, 0]).float()[:, : lm.vocab_size]  # (L+1, V)
    own = own[0].float()[: lm.vocab_size]  # (V,)
    log_probs = torch.log_softmax(lens, dim=-1)  # (L+1, V)
    top1 = int(own.argmax())
    notes: list[str] = []
    tgt = _one_token(lm, enc, target, top1, "target", notes)
    fl = None if foil in (None, "") else _one_token(lm, enc, foil, top1, "foil", notes)
    rows = tuple(_row(lm, layer, log_probs[layer], k, tgt[0], fl) for layer in range(len(lens)))
    return LayerLens(
        model=lm.name,
        kind=lm.kind,
        text=text,
        tokens=make_tokens(lm.tokenizer, enc.ids),
        position=at,
        target=tgt[1],
        target_id=tgt[0],
        foil=fl[1] if fl else None,
        foil_id=fl[0] if fl else None,
        rows=rows,
        max_error=float((lens[-1] - own).abs().max()),
        notes=tuple(notes),
    )


def _position(enc, position: int | None, lm: LoadedModel) -> int:
    n = len(enc.ids)
    if position is None:
        return enc.mask_positions[0] if enc.mode == "masked" else n - 1
    at = position + n if position < 0 else position
    if not 0 <= at < n:
        raise InputError(f"Position {shown(position)} is outside the text (0 to {n - 1}).")
    return at


def _one_token(lm, enc, wanted, top1: int, role: str, notes: list[str]) -> tuple[int, str]:
    """The token the lens follows for a target or foil: its first, said in a note if more."""
    found = targets.resolve(lm, enc, wanted, top1, role)
    first = found.ids[0]
    text = token_text(lm.tokenizer, first)
    if len(found.ids) > 1:
        notes.append(
            MULTI_TOKEN.format(
                role=role.capitalize(), text=found.text, n=len(found.ids), first=text
            )
        )
    return first, text


def _row(lm, layer: int, log_probs: torch.Tensor, k: int, target: int, foil) -> LayerRow:
    """One layer's row from its log-probabilities (V,)."""

    def rank(i: int) -> int:  # 1 = the top token; ties share the better rank
        return int((log_probs > log_probs[i]).sum()) + 1

    return LayerRow(
        layer=layer,
        label="embeddings" if layer == 0 else f"layer {layer}",
        top=top_candidates(lm, log_probs, k),
        target_probability=float(log_probs[target].exp()),
        target_rank=rank(target),
        foil_probability=None if foil is None else float(log_probs[foil[0]].exp()),
        foil_rank=None if foil is None else rank(foil[0]),
    )
