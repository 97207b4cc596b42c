"""`layers`: what each layer predicts — the logit lens at one position, with the target's (and
a foil's) probability and rank after every block.

One forward with hooks (whyword/models/calls.tapped) keeps the residual stream at the lens
position only; each layer's row is that stream read out by the model's own final norm and
unembedding (whyword/models/anatomy.py), so the last row is the model's logits. The same
forward keeps what every head and MLP wrote there, for direct logit attribution
(whyword/tasks/components.py); its ablation check is one more batched call.
"""

from __future__ import annotations

import torch

from whyword.engine.predict import top_candidates
from whyword.errors import InputError, shown
from whyword.models import calls as model_calls
from whyword.models.anatomy import POST_NORM, anatomy
from whyword.models.encoding import encode
from whyword.models.load import LoadedModel, load_model
from whyword.results.layers import LayerLens, LayerRow
from whyword.tasks import components as parts
from whyword.tasks.reading import first_token, read_position
from whyword.text.tokens import make_tokens


def layers(
    text: str,
    target: int | str | None = None,
    foil: int | str | None = None,
    position: int | None = None,
    k: int = 5,
    model: str | LoadedModel | None = None,
    components: bool = True,
    check: int = 10,
) -> LayerLens:
    """What each layer of `model` predicts at `position` of `text` (default: the last token
    of a causal model, the first `[MASK]` of a masked one): the top-k tokens of the logit lens
    after the embeddings and after every block, and the target's (default: the model's
    top-1) and foil's probability and rank there.

    With `components` (pre-norm models: the Llama family, GPT-2), also which heads and MLPs
    wrote the target's logit (or target − foil) directly, and the top `check` of them
    ablated to see whether removing them really moves the target (0: no check)."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 100:
        raise InputError(f"k must be a whole number from 1 to 100, got {shown(k)}.")
    if isinstance(check, bool) or not isinstance(check, int) or not 0 <= check <= 50:
        raise InputError(f"check must be a whole number from 0 to 50, got {shown(check)}.")
    lm = load_model(model)
    enc = encode(lm, text)
    if enc.mode == "infill":
        raise InputError("The layers view reads one position: a [MASK] needs a masked model.")
    at = read_position(enc, position)
    body = anatomy(lm)
    notes: list[str] = []
    if components and not body.additive:
        notes.append(POST_NORM.format(name=lm.name))
    taps = parts.probe(body, components and body.additive)
    ids = torch.tensor([enc.ids], device=lm.device)  # (1, T)
    where = torch.tensor([at], device=lm.device)  # (1,)
    with lm.lock, torch.no_grad():
        logits = model_calls.tapped(lm, ids, where, taps.taps())[0]  # (V',)
        lens = body.read_out(taps.stream()).float()[:, : lm.vocab_size]  # (L+1, V)
        own = logits.float()[: lm.vocab_size]  # (V,)
        top1 = int(own.argmax())
        tgt = first_token(lm, enc, target, top1, "target", notes)
        fl = None if foil in (None, "") else first_token(lm, enc, foil, top1, "foil", notes)
        found = None
        if taps.heads:
            found = parts.direct_logits(body, taps, logits.float(), tgt[0], fl and fl[0])
            if check:
                args = (ids, at, found, logits.float(), tgt[0], fl and fl[0], check)
                found = parts.check(lm, body, taps, *args)
    log_probs = torch.log_softmax(lens, dim=-1)  # (L+1, V)
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
        components=found,
    )


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
