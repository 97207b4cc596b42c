"""Edited inputs through the engine: HotFlip's first-order estimates from the gradient of F, and
batched forwards that verify what an edited input really does.

The gradient is the engine's: the Problem of one row (whyword/engine/problems.py) and its
∂F/∂x from `input_gradients` (whyword/attr/problem.py), F being the row's objective
(whyword/attr/objectives.py). A verifying forward reads the logits through the forward's own
`picked_logits` (whyword/engine/sequences.py → whyword/models/calls.py) and log p through
`row_values` (whyword/attr/scoring.py), so an edited input is scored exactly as F scores the
original. Call both inside `engine.run.computing`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from whyword.attr.objectives import default_objective, get_objective
from whyword.attr.problem import input_gradients
from whyword.attr.scoring import Reads, row_values
from whyword.engine.forward import Layout, RowSpec, position_layout
from whyword.engine.problems import build_problem
from whyword.engine.sequences import picked_logits
from whyword.models.budget import RowShape, batch_rows
from whyword.models.load import LoadedModel
from whyword.results.counterfactuals import Reading
from whyword.runtime.options import ExplainOptions
from whyword.text.tokens import label


@dataclass(frozen=True)
class Answer:
    """The answer edits work against: the target's (and foil's) ids, read after the last token
    (causal) or at the first [MASK] (masked, one token each)."""

    target: tuple[int, ...]
    foil: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        assert self.target and self.foil != ()

    def row(self, lm: LoadedModel, ids: Sequence[int]) -> RowSpec:
        """The row of `ids` that scores it: F = log p(target), or − log p(foil) with a foil."""
        ids = tuple(ids)
        if lm.kind == "causal":
            at = len(ids) - 1
            target = position_layout(ids, at, self.target)
            foil = None if self.foil is None else position_layout(ids, at, self.foil)
        else:
            at = ids.index(lm.tokenizer.mask_token_id)  # the first [MASK] (the caller checks)
            target = Layout(ids, at, (), ((at, self.target[0]),), causal=False)
            foil = None if self.foil is None else Layout(ids, at, (), ((at, self.foil[0]),), False)
        objective = default_objective(foil=self.foil is not None)
        return RowSpec(target, objective, self.target, foil=foil, foil_ids=self.foil)


def gradient(lm: LoadedModel, ids: Sequence[int], row: RowSpec, opts: ExplainOptions):
    """F (float) and ∂F/∂e (T, H) at the real input embeddings: one forward + backward."""
    problem = build_problem(lm, ids, [row], opts, uses_ig=False)
    values, grads = input_gradients(problem)  # (1,), (1, T, H)
    return float(values[0]), grads[0].detach()  # (T, H)


def estimates(
    lm: LoadedModel, ids: Sequence[int], grad: torch.Tensor, candidates: torch.Tensor
) -> torch.Tensor:
    """HotFlip's first-order ΔF (T, C) of putting candidate c at position i:
    ∂F/∂e_i · (e_c − e_i). `grad`: (T, H); `candidates`: (C,) token ids."""
    with torch.no_grad():
        ids_t = torch.tensor(list(ids), device=lm.device)  # (T,)
        own = lm.embed(ids_t).to(grad.dtype)  # (T, H)
        cands = lm.embed(candidates.to(lm.device)).to(grad.dtype)  # (C, H)
        return grad @ cands.T - (grad * own).sum(-1, keepdim=True)  # (T, C)


def readings(
    lm: LoadedModel,
    inputs: Sequence[Sequence[int]],
    answer: Answer,
    opts: ExplainOptions,
) -> list[Reading]:
    """A forward of each input (all of one length), in batches the memory budget allows:
    log p(target), log p(foil) and the top-1 at the read position."""
    inputs = [tuple(int(i) for i in x) for x in inputs]
    if not inputs:
        return []
    length = len(inputs[0])
    assert all(len(x) == length for x in inputs), "edited inputs of one length per call"
    rows = [answer.row(lm, x) for x in inputs]
    shape = RowShape(
        lm,
        sequences_per_row=len(rows[0].layouts),
        scored_positions=sum(len(x.scored) for x in rows[0].layouts),
        extra_tokens=max(len(x.inserted) for x in rows[0].layouts),
    )
    size = max(1, batch_rows(shape, length, grad=False, explicit=opts.internal_batch_size))
    out: list[Reading] = []
    with torch.no_grad():
        for start in range(0, len(inputs), size):
            out += _read(lm, inputs[start : start + size], rows[start : start + size])
    return out


def _read(lm: LoadedModel, inputs, rows: list[RowSpec]) -> list[Reading]:
    ids = torch.tensor(inputs, device=lm.device)  # (B, T)
    embeds = lm.embed(ids)  # (B, T, H)
    mask = torch.ones(ids.shape, dtype=torch.long, device=lm.device)  # (B, T)
    seqs = [(b, layout) for b, row in enumerate(rows) for layout in row.layouts]
    picked = picked_logits(lm, embeds, mask, seqs, None)  # (S, W, V)
    per = len(rows[0].layouts)  # sequences per input: the target's, then the foil's
    plain = get_objective("log_prob")

    def scored(layout) -> tuple[int, ...]:
        return tuple(t for _, t in layout.scored)

    target_rows = torch.arange(0, len(seqs), per, device=picked.device)  # (B,)
    target_lp = row_values(
        [Reads(plain, scored(r.target)) for r in rows], picked[target_rows]
    )  # (B,)
    foil_lp = None
    if rows[0].foil is not None:
        foil_lp = row_values(
            [Reads(plain, scored(r.foil)) for r in rows], picked[target_rows + 1]
        )  # (B,)
    top = picked[target_rows, 0, : lm.vocab_size].argmax(-1).tolist()  # (B,) at the read position
    return [
        Reading(
            target_log_prob=float(target_lp[b]),
            foil_log_prob=None if foil_lp is None else float(foil_lp[b]),
            top1_id=int(top[b]),
            top1=label(lm.tokenizer, int(top[b])),
        )
        for b in range(len(rows))
    ]
