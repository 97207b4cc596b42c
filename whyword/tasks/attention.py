"""`attention`: where one head looked from a position, and how much of each token it moved.

One forward with transformers' eager attention switched on for that call only
(whyword/models/calls.attention_rows): hooks keep each block's attention row at the position
and the norms of what each head moved from each token (whyword/models/heads.py), never a
T × T matrix per block.
"""

from __future__ import annotations

import torch

from whyword.errors import InputError, shown
from whyword.models import calls as model_calls
from whyword.models.anatomy import anatomy
from whyword.models.encoding import encode
from whyword.models.heads import head_parts
from whyword.models.load import LoadedModel, load_model
from whyword.results.attention import HeadAttention
from whyword.tasks.reading import read_position
from whyword.text.tokens import make_tokens


def attention(
    text: str,
    layer: int,
    head: int,
    position: int | None = None,
    model: str | LoadedModel | None = None,
) -> HeadAttention:
    """Head `head` (0-based) of block `layer` (1-based, as the logit lens counts) at
    `position` of `text` (default: the last token of a causal model, the first `[MASK]` of a
    masked one): its attention weights to every token and the norm of what it moved from
    each, with every head's total moved norm at that position."""
    lm = load_model(model)
    enc = encode(lm, text)
    if enc.mode == "infill":
        raise InputError("The attention view reads one position: a [MASK] needs a masked model.")
    at = read_position(enc, position)
    body = anatomy(lm)
    n_layers, n_heads = len(body.blocks), body.heads
    for name, value, low, high in (("layer", layer, 1, n_layers), ("head", head, 0, n_heads - 1)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InputError(
                f"The {name} must be a whole number from {low} to {high} for {lm.name}, "
                f"got {shown(value)}."
            )
    parts = [head_parts(body, i) for i in range(n_layers)]
    ids = torch.tensor([enc.ids], device=lm.device)  # (1, T)
    where = torch.tensor([at], device=lm.device)  # (1,)
    with lm.lock, torch.no_grad():
        weights, moved = model_calls.attention_rows(lm, parts, ids, where)  # (L, h, 1, T) each
    row = weights[layer - 1, head, 0]  # (T,)
    carried = moved[layer - 1, head, 0]  # (T,)
    grid = moved[:, :, 0].sum(-1)  # (L, heads)
    return HeadAttention(
        model=lm.name,
        kind=lm.kind,
        text=text,
        tokens=make_tokens(lm.tokenizer, enc.ids),
        position=at,
        layer=layer,
        head=head,
        weights=tuple(row.tolist()),
        moved=tuple(carried.tolist()),
        moved_grid=tuple(tuple(r) for r in grid.tolist()),
        layers=n_layers,
        heads=n_heads,
        kv_heads=parts[0].kv_heads,
    )
