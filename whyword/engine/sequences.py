"""How the forward's sequences reach the model: each (example, layout) sequence built from the
embeddings and its fixed inserted ids, answered from the forward cache where this very
sequence already ran without gradients (whyword/runtime/forward_cache.py), the rest in
right-padded calls grouped by length; and the held prefix (keys and values of the first tokens,
computed once) that IG's path and the Evidence reader reuse.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from whyword.models import calls as model_calls


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


def picked_logits(lm, embeds, attention_mask, seqs, prefix) -> torch.Tensor:
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
    (whyword/runtime/forward_cache.py) where this very sequence already ran without gradients, the
    rest in right-padded calls. With the cache's keys, identical sequences of one call run
    once (occluding a padded position of a shorter request leaves its row as it was); rows
    of very different lengths (several users' requests) go in separate calls, so short rows
    do not pay for the longest one's padding."""
    from whyword.runtime import forward_cache as fc

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
