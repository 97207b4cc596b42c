"""The differentiable forward pass: input embeddings -> one objective value per explained row.

A `Layout` says how one token sequence is read off the model: which fixed (not attributed) ids
are inserted into the input — a causal continuation, an infill candidate — and which
positions' logits score which ids. A `RowSpec` is one output row of the attribution matrix:
its target (and foil, and infill pool) layouts and its objective. `matrix_scorer` builds the
F that every method differentiates: F(embeds, mask, row) evaluates, for each batch example, the
objective of *its* row, with every sequence of the batch in one padded model call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from whyword import model_calls
from whyword.encoding import Encoded
from whyword.errors import TargetError
from whyword.models import LoadedModel
from whyword.objectives import Objective
from whyword.scoring import Reads, row_values

# F(embeds, mask, rows): (B, T, H), (B, T), (B,) long -> (B,)
ScoreFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


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
    assert 0 <= position < len(ids), "the caller checks the position (whyword/outputs.py)"
    scored = tuple((position + j, t) for j, t in enumerate(target))
    return Layout(ids, position + 1, target[:-1], scored, causal=True)


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
        """The ids F scores in each layout, in the order of `layouts` (whyword/scoring.py)."""

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


@dataclass(frozen=True)
class HeldPrefix:
    """Keys and values of the first `length` input tokens, computed once without gradients.

    A causal LM's first positions never attend to later ones, so when IG holds them at their
    real embeddings every point of the path shares their keys and values exactly."""

    layers: tuple[tuple[torch.Tensor, torch.Tensor], ...]  # per layer: (1, heads, P, d) twice
    length: int

    def for_batch(self, batch: int):
        from transformers import DynamicCache

        data = [(k.expand(batch, -1, -1, -1), v.expand(batch, -1, -1, -1)) for k, v in self.layers]
        return DynamicCache(ddp_cache_data=data)  # fresh per call: the forward appends to it


def matrix_scorer(
    lm: LoadedModel,
    rows: Sequence[RowSpec],
    prefix: HeldPrefix | None = None,
    padded: bool = False,
) -> ScoreFn:
    """F(embeds, mask, row) = objective of row[b] on example b; all rows share the input ids.

    With `prefix`, F takes only the embeddings after the held prefix (and their mask). With
    `padded`, rows may read different inputs, each right-padded to the batch's length with
    mask 0 (whyword/problems.py): a padded key gets no attention weight and no position moves."""
    rows = tuple(rows)
    assert padded or len({r.target.ids for r in rows}) == 1, "rows must share the input"
    reads = tuple(r.reads for r in rows)

    def score(embeds: torch.Tensor, attention_mask: torch.Tensor, row: torch.Tensor):
        picks = [int(r) for r in row.reshape(-1).tolist()]  # (B,) as Python ints
        seqs = [(b, layout) for b, r in enumerate(picks) for layout in rows[r].layouts]
        picked = _picked_logits(lm, embeds, attention_mask, seqs, prefix)  # (S, W, V)
        return row_values([reads[r] for r in picks], picked, embeds.dtype)  # (B,)

    return score


def _picked_logits(lm, embeds, attention_mask, seqs, prefix) -> torch.Tensor:
    """The logits (S, W, V) at each (example, layout) sequence's scored positions, padded to
    the most pieces W with its first one's, all sequences in right-padded calls."""
    held = 0 if prefix is None else prefix.length
    device = embeds.device
    fulls, masks, scored = [], [], []
    for b, layout in seqs:
        at = layout.insert_at - held
        fixed = lm.embed(torch.tensor(layout.inserted, dtype=torch.long, device=device))  # (I, H)
        f = torch.cat([embeds[b, :at], fixed.to(embeds.dtype), embeds[b, at:]])  # (L_b, H)
        ones = attention_mask.new_ones(len(layout.inserted))  # (I,)
        m = torch.cat([attention_mask[b, :at], ones, attention_mask[b, at:]])  # (L_b,)
        if layout.causal:  # nothing after its last scored position reaches a causal score
            end = max(p for p, _ in layout.scored) - held + 1
            f, m = f[:end], m[:end]  # (end, H), (end,)
        fulls.append(f)
        masks.append(m)
        scored.append(layout.scored)
    rows = _reused_or_run(lm, seqs, fulls, masks, scored, held, prefix, embeds)
    width = max(len(s) for s in scored)
    return torch.stack(  # (S, W, V): each scored piece's row of logits
        [
            torch.stack(
                [rows[i][p - held] for p, _ in s] + [rows[i][s[0][0] - held]] * (width - len(s))
            )
            for i, s in enumerate(scored)
        ]
    )


SPLIT = 0.75  # a call's rows differ in length by at most this ratio (if both parts are big)
MIN_SPLIT_ROWS = 16  # rows a length group needs before a shorter group gets its own call


def _reused_or_run(lm, seqs, fulls, masks, scored, held, prefix, embeds) -> list:
    """Per sequence, {position: logits (V,)} at its scored positions: from the forward cache
    (whyword/forward_cache.py) where this very sequence already ran without gradients, the
    rest in right-padded calls. With the cache's keys, identical sequences of one call run
    once (occluding a padded position of a shorter request leaves its row as it was); rows
    of very different lengths (several users' requests) go in separate calls, so short rows
    do not pay for the longest one's padding."""
    from whyword import forward_cache as fc

    wanted = [sorted({p - held for p, _ in s}) for s in scored]
    keys: list = [None] * len(seqs)
    rows: list = [None] * len(seqs)
    if prefix is None and fc.enabled(embeds):
        keys = fc.sequence_keys(lm, fulls, masks, wanted)
        for i, key in enumerate(keys):
            found = fc.LOGITS.get(key)
            if found is not None:
                rows[i] = dict(zip(wanted[i], found, strict=True))
    same: dict[int, int] = {}  # a repeated sequence -> the first one like it
    first: dict = {}
    todo = []
    for i in range(len(seqs)):
        if rows[i] is not None:
            continue
        if keys[i] is not None and keys[i] in first:
            same[i] = first[keys[i]]
            continue
        if keys[i] is not None:
            first[keys[i]] = i
        todo.append(i)
    for group in _length_groups(todo, [f.shape[0] for f in fulls]):
        logits, where = _run(lm, group, fulls, masks, wanted, held, prefix)
        for k, i in enumerate(group):
            rows[i] = {p: logits[k, where[p]] for p in wanted[i]}
            if keys[i] is not None:
                kept = logits[k, [where[p] for p in wanted[i]]].detach().clone()  # (P_i, V)
                fc.LOGITS.put(keys[i], kept, replace=False)
    for i, j in same.items():
        rows[i] = rows[j]
    return rows


def _length_groups(todo: list[int], lengths: list[int]) -> list[list[int]]:
    """`todo` in calls by length, longest first: a new call when a row is under `SPLIT` × the
    call's longest and the call already has `MIN_SPLIT_ROWS` rows; a short last call of
    fewer rows joins the one before."""
    order = sorted(todo, key=lambda i: -lengths[i])
    groups: list[list[int]] = []
    for i in order:
        if groups and not (
            lengths[i] < SPLIT * lengths[groups[-1][0]] and len(groups[-1]) >= MIN_SPLIT_ROWS
        ):
            groups[-1].append(i)
        else:
            groups.append([i])
    if len(groups) > 1 and len(groups[-1]) < MIN_SPLIT_ROWS:
        last = groups.pop()
        groups[-1].extend(last)
    return groups


def _run(lm, todo, fulls, masks, wanted, held, prefix):
    """One right-padded call over the sequences `todo`: logits (S', P, V) and {position: p}."""
    length = max(fulls[i].shape[0] for i in todo)
    first = fulls[todo[0]]
    full = first.new_zeros(len(todo), length, first.shape[-1])  # (S', L, H) right-padded
    mask = masks[todo[0]].new_zeros(len(todo), held + length)  # (S', held + L)
    mask[:, :held] = 1
    for k, i in enumerate(todo):
        full[k, : fulls[i].shape[0]] = fulls[i]
        mask[k, held : held + masks[i].shape[0]] = masks[i]
    positions = sorted({p for i in todo for p in wanted[i]})  # union of scored positions
    where = {p: k for k, p in enumerate(positions)}
    keep = torch.tensor(positions, dtype=torch.long, device=first.device)  # (P,)
    past = prefix.for_batch(len(todo)) if prefix is not None else None
    logits = model_calls.logits_at(lm, keep, embeds=full, mask=mask, past=past)  # (S', P, V)
    return logits.float(), where  # (S', P, V)


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
