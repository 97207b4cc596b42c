"""The `Problem` an attribution matrix's rows make: the input embeddings per row, the
reference (zero / pad / mask embedding) occlusion and IG start from, the held tokens, F, and
the batch sizes the memory budget allows."""

from __future__ import annotations

import torch

from whyword.attr import Problem
from whyword.errors import InputError
from whyword.forward import held_prefix_scorer, matrix_scorer
from whyword.models import LoadedModel
from whyword.options import ExplainOptions
from whyword.tokens import special_ids

__all__ = ["build_problem", "reference_embeddings"]


def build_problem(
    lm, ids, rows, opts: ExplainOptions, uses_ig: bool = True, primal=None
) -> Problem:
    from whyword.budget import RowShape, batch_rows

    device = lm.device
    ids_t = torch.tensor(ids, device=device)  # (T,)
    with torch.no_grad():
        x = lm.embed(ids_t).unsqueeze(0)  # (1, T, H)
    r = len(rows)
    inputs = x.expand(r, -1, -1).clone().requires_grad_()  # (R, T, H): a leaf per row
    specials = special_ids(lm.tokenizer)
    anchors = torch.tensor([int(i) in specials for i in ids], device=device)  # (T,)
    path_forward = None
    if lm.kind == "causal" and opts.hold_first:
        anchors[0] = True  # the attention sink: varying it makes F jump along the IG path
        if uses_ig:
            path_forward = held_prefix_scorer(lm, rows, x)
    shape = RowShape(  # what one row of F runs: sizes every batch to the memory budget
        lm,
        sequences_per_row=max(len(row.layouts) for row in rows),
        scored_positions=max(sum(len(x.scored) for x in row.layouts) for row in rows),
        extra_tokens=max(len(x.inserted) for row in rows for x in row.layouts),
    )
    explicit = opts.internal_batch_size
    return Problem(
        forward=matrix_scorer(lm, rows),
        inputs=inputs,
        rows=torch.arange(r, device=device),  # (R,)
        attention_mask=torch.ones(r, len(ids), dtype=torch.long, device=device),  # (R, T)
        reference=reference_embeddings(lm, len(ids), opts.baseline).expand(r, -1, -1),
        anchors=anchors,
        batch_rows=lambda t, grad=True, wide=False: batch_rows(
            shape, t, grad=grad, explicit=explicit, wide=wide
        ),
        baseline_name=opts.baseline,
        path_forward=path_forward,
        model=lm,
        primal=primal,
    )


def reference_embeddings(lm: LoadedModel, length: int, baseline: str) -> torch.Tensor:
    """The reference embedding at every position: zeros, or the pad / mask token's embedding."""
    hidden = lm.embedding.embedding_dim
    if baseline == "zero":
        return torch.zeros(1, length, hidden, device=lm.device)  # (1, T, H)
    tok = lm.tokenizer
    if baseline == "pad":
        candidates = (tok.pad_token_id, tok.eos_token_id, tok.unk_token_id)
        token_id = next((i for i in candidates if i is not None), None)
    else:
        token_id = tok.mask_token_id
    if token_id is None:
        raise InputError(f"Model '{lm.name}' has no {baseline} token; use the zero baseline.")
    with torch.no_grad():
        vector = lm.embed(torch.tensor([token_id], device=lm.device))  # (1, H)
    return vector.view(1, 1, hidden).expand(1, length, hidden).clone()  # (1, T, H)
