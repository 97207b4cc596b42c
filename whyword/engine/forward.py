"""The differentiable forward pass: input embeddings -> one objective value per explained row.

A `Layout` says how one token sequence is read off the model: which fixed (not attributed) ids
are inserted into the input — a causal continuation, an infill candidate — and which
positions' logits score which ids. A `RowSpec` is one output row of the attribution matrix:
its target (and foil, and infill pool) layouts and its objective. `matrix_scorer` builds the
F that every method differentiates: F(embeds, mask, row) evaluates, for each batch example, the
objective of *its* row, with every sequence of the batch in one padded model call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from whyword.attr.objectives import Objective
from whyword.attr.problem import ScoreFn
from whyword.attr.scoring import Reads, row_values
from whyword.engine.sequences import HeldPrefix, picked_logits
from whyword.errors import TargetError
from whyword.models import calls as model_calls
from whyword.models.encoding import Encoded
from whyword.models.load import LoadedModel


@dataclass(frozen=True)
class Layout:
    """How a token sequence is scored on top of the attributed input ids."""

    ids: tuple[int, ...]  # the attributed input (a masked target may widen its mask)
    insert_at: int  # where `inserted` goes into the input
    inserted: tuple[int, ...]  # fixed ids fed to the model but not attributed
    scored: tuple[tuple[int, int], ...]  # (position whose logits predict, token id)
    causal: bool

    @property
    def full_length(self) -> int:
        return len(self.ids) + len(self.inserted)

    def in_context(self) -> tuple[bool, ...]:
        """Per attributed token: can it change the scored logits? (always, unless causal)"""
        if not self.causal:
            return (True,) * len(self.ids)
        last = max(p for p, _ in self.scored)
        shift = len(self.inserted)
        return tuple((j if j < self.insert_at else j + shift) <= last for j in range(len(self.ids)))


def layout_for(lm: LoadedModel, enc: Encoded, target: Sequence[int], mask_index: int = 0) -> Layout:
    """The layout that scores `target` (one or more ids) in the slot the text asks for."""
    target = tuple(int(t) for t in target)
    if not target:
        raise TargetError("The target has no tokens.")
    if enc.mode == "masked":
        return _masked_layout(lm, enc, target, mask_index)
    gap = len(enc.ids) if enc.mode == "next_token" else enc.gap
    right = enc.ids[gap:]
    inserted = target if right else target[:-1]
    scored = [(gap - 1 + j, t) for j, t in enumerate(target)]
    scored += [(gap + len(target) - 1 + k, t) for k, t in enumerate(right)]
    return Layout(enc.ids, gap, inserted, tuple(scored), causal=True)


def position_layout(ids: Sequence[int], position: int, target: Sequence[int]) -> Layout:
    """A causal row read at `position`: its logits predict `target` (teacher-forced after the
    first piece), ignoring the text that follows (it is out of the row's context)."""
    ids, target = tuple(ids), tuple(int(t) for t in target)
    assert 0 <= position < len(ids), "the caller checks the position (whyword/engine/outputs.py)"
    scored = tuple((position + j, t) for j, t in enumerate(target))
    return Layout(ids, position + 1, target[:-1], scored, causal=True)


def span_layout(ids: Sequence[int], start: int, end: int) -> Layout:
    """A causal row scoring the input's own tokens `start`..`end − 1`, each read at the token
    before it (teacher-forced by the input itself: nothing inserted)."""
    ids = tuple(ids)
    assert 1 <= start < end <= len(ids), "the caller checks the span (whyword/engine/outputs.py)"
    scored = tuple((j - 1, ids[j]) for j in range(start, end))
    return Layout(ids, len(ids), (), scored, causal=True)


def _masked_layout(
    lm: LoadedModel, enc: Encoded, target: tuple[int, ...], mask_index: int
) -> Layout:
    enc.check_slot(mask_index)
    p = enc.mask_positions[mask_index]
    mask_id = lm.tokenizer.mask_token_id
    ids = enc.ids[:p] + (mask_id,) * len(target) + enc.ids[p + 1 :]  # one mask per target piece
    scored = tuple((p + j, t) for j, t in enumerate(target))
    return Layout(ids, p, (), scored, causal=False)


@dataclass(frozen=True)
class RowSpec:
    """One output row: the sequences it scores and the objective that combines them."""

    target: Layout
    objective: Objective
    target_ids: tuple[int, ...]  # what is explained (a masked slot's or a causal word's ids)
    foil: Layout | None = None
    foil_ids: tuple[int, ...] | None = None
    pool: tuple[Layout, ...] = ()  # the other infill candidates (infill_posterior)

    def __post_init__(self) -> None:
        if self.foil_ids is not None and tuple(self.foil_ids) == tuple(self.target_ids):
            raise TargetError(
                "The foil is the same as the target: the contrast would be zero. Pick another foil."
            )
        for other in (self.foil, *self.pool):
            if other is not None and other.ids != self.target.ids:
                counts = (
                    f" ({len(self.target_ids)} vs {len(self.foil_ids)})" if self.foil_ids else ""
                )
                raise TargetError(
                    "In a masked slot the target and the foil must have the same number of "
                    f"tokens{counts}."
                )
        if self.objective.needs_foil and self.foil is None:
            raise TargetError(f"The objective '{self.objective.name}' needs a foil.")
        if self.objective.needs_pool and not self.pool:
            raise TargetError(f"The objective '{self.objective.name}' needs candidates.")

    @property
    def layouts(self) -> tuple[Layout, ...]:
        return (self.target, *((self.foil,) if self.foil is not None else ()), *self.pool)

    @property
    def reads(self) -> Reads:
        """The ids F scores in each layout, in the order of `layouts` (whyword/attr/scoring.py)."""

        def ids(layout: Layout) -> tuple[int, ...]:
            return tuple(t for _, t in layout.scored)

        return Reads(
            self.objective,
            ids(self.target),
            None if self.foil is None else ids(self.foil),
            tuple(ids(p) for p in self.pool),
        )

    def in_context(self) -> tuple[bool, ...]:
        flags = [layout.in_context() for layout in self.layouts]
        return tuple(any(col) for col in zip(*flags, strict=True))


def matrix_scorer(
    lm: LoadedModel,
    rows: Sequence[RowSpec],
    prefix: HeldPrefix | None = None,
    padded: bool = False,
) -> ScoreFn:
    """F(embeds, mask, row) = objective of row[b] on example b; all rows share the input ids.

    With `prefix`, F takes only the embeddings after the held prefix (and their mask). With
    `padded`, rows may read different inputs, each right-padded to the batch's length with
    mask 0 (whyword/engine/problems.py): a padded key gets no attention weight and no position moves."""
    rows = tuple(rows)
    assert padded or len({r.target.ids for r in rows}) == 1, "rows must share the input"
    reads = tuple(r.reads for r in rows)

    def score(embeds: torch.Tensor, attention_mask: torch.Tensor, row: torch.Tensor):
        picks = [int(r) for r in row.reshape(-1).tolist()]  # (B,) as Python ints
        seqs = [(b, layout) for b, r in enumerate(picks) for layout in rows[r].layouts]
        picked = picked_logits(lm, embeds, attention_mask, seqs, prefix)  # (S, W, V)
        return row_values([reads[r] for r in picks], picked, embeds.dtype)  # (B,)

    return score


def held_prefix_scorer(
    lm: LoadedModel, rows: Sequence[RowSpec], inputs: torch.Tensor
) -> ScoreFn | None:
    """`matrix_scorer` for IG paths that hold the first token: it runs once, cached.

    None where that cannot work (a masked LM, a score read at the first position) or where
    the cached run does not reproduce F on the real input (a model whose cache differs):
    then IG runs every row in full, as before. `inputs`: (1, T, H) real embeddings."""
    held = 1
    if not all(
        layout.causal and layout.insert_at >= held and min(p for p, _ in layout.scored) >= held
        for row in rows
        for layout in row.layouts
    ):
        return None
    picks = torch.arange(len(rows), device=inputs.device)  # (R,)
    x = inputs.expand(len(rows), -1, -1)  # (R, T, H)
    ones = torch.ones(x.shape[:2], dtype=torch.long, device=inputs.device)  # (R, T)
    try:
        with torch.no_grad():
            _, cache = model_calls.cached_call(lm, embeds=inputs[:, :held])
            layers = tuple((layer.keys, layer.values) for layer in cache.layers)
            scorer = matrix_scorer(lm, rows, HeldPrefix(layers, held))
            cached = scorer(x[:, held:], ones[:, held:], picks)  # (R,)
            full = matrix_scorer(lm, rows)(x, ones, picks)  # (R,)
    except (AttributeError, TypeError, ValueError, RuntimeError, IndexError):
        return None  # no DynamicCache-style cache on this model: no shortcut
    return scorer if torch.allclose(cached, full, rtol=1e-4, atol=1e-3) else None
