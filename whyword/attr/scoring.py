"""F from logits: the one place an objective's value is computed.

Every route that evaluates a row's objective picks the logits at the positions the row scores
and hands them here: the differentiable forward every method differentiates
(whyword/engine/forward.py), the one-pass route that reuses the predictions' logits
(whyword/engine/onepass.py) and AttnLRP's direct scores (whyword/attr/attnlrp.py). Per scored piece,
log p = logit − logsumexp(logits); a sequence's sums over its pieces, and — only for an
objective that asks for it (`needs_distribution`) — the log-softmax at the read position, go
into a `Scores` batch, and the objective makes one value per example of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from whyword.attr.objectives import Objective, Scores


@dataclass(frozen=True)
class Reads:
    """What F reads for one example: the token ids scored in each of its sequences.

    `target` holds the ids its logits score in order: the target's pieces (then, for a
    causal gap, the right context's); the first is read at the *read position*, whose
    distribution an objective with `needs_distribution` receives."""

    objective: Objective
    target: tuple[int, ...]
    foil: tuple[int, ...] | None = None
    pool: tuple[tuple[int, ...], ...] = ()  # the other infill candidates (infill_posterior)

    def __post_init__(self) -> None:
        assert self.target and all(self.sequences), "every sequence scores at least one piece"

    @property
    def sequences(self) -> tuple[tuple[int, ...], ...]:
        """The scored sequences in the order their logits are picked: target, foil, pool."""
        return (self.target, *((self.foil,) if self.foil is not None else ()), *self.pool)

    @property
    def shape(self) -> tuple[str, bool, int]:
        """Examples of one shape are evaluated together (objective, foil?, pool size)."""
        return self.objective.name, self.foil is not None, len(self.pool)


def row_values(
    reads: Sequence[Reads], picked: torch.Tensor, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """F (B,) of B examples from their picked logits (S, W, V): row i of `picked` holds the
    logits at the scored positions of sequence i, where the sequences are each example's
    `Reads.sequences` in turn, each padded to W pieces (the padding rows are not read)."""
    seqs = [s for r in reads for s in r.sequences]
    assert picked.dim() == 3 and picked.shape[0] == len(seqs), "one logits row per sequence"
    width, device = picked.shape[1], picked.device
    ids = torch.tensor([list(s) + [0] * (width - len(s)) for s in seqs], device=device)  # (S, W)
    weight = torch.tensor(  # (S, W) 1 where a piece is scored
        [[1.0] * len(s) + [0.0] * (width - len(s)) for s in seqs], device=device
    )
    token_logit = picked.gather(-1, ids.unsqueeze(-1)).squeeze(-1)  # (S, W)
    token_lp = token_logit - torch.logsumexp(picked, dim=-1)  # (S, W)
    log_probs = (token_lp * weight).sum(-1)  # (S,) Σ log p per sequence
    logits = (token_logit * weight).sum(-1)  # (S,) Σ logit per sequence
    pieces = weight.sum(-1)  # (S,) scored pieces per sequence
    starts, at = [], 0
    for r in reads:
        starts.append(at)
        at += len(r.sequences)
    groups: dict[tuple[str, bool, int], list[int]] = {}
    for b, r in enumerate(reads):
        groups.setdefault(r.shape, []).append(b)
    out = torch.zeros(len(reads), dtype=torch.float32, device=device)  # (B,)
    for members in groups.values():
        first = reads[members[0]]
        idx = torch.tensor([starts[b] for b in members], device=device)  # (M,)
        foil = first.foil is not None
        n = len(first.pool)
        pool = idx[:, None] + torch.arange(1 + foil, 1 + foil + n, device=device)  # (M, N)
        scores = Scores(
            target_log_prob=log_probs[idx],  # (M,)
            target_logit=logits[idx],  # (M,)
            foil_log_prob=log_probs[idx + 1] if foil else None,  # (M,)
            foil_logit=logits[idx + 1] if foil else None,  # (M,)
            pool_log_probs=log_probs[torch.cat([idx[:, None], pool], 1)] if n else None,
            log_probs=torch.log_softmax(picked[idx, 0], dim=-1)  # (M, V) at the read position
            if first.objective.needs_distribution
            else None,
            target_first_id=ids[idx, 0],  # (M,)
            target_pieces=pieces[idx],  # (M,)
            foil_pieces=pieces[idx + 1] if foil else None,  # (M,)
        )
        out[idx.new_tensor(members)] = first.objective.fn(scores).float()  # (M,)
    return out.to(dtype)
