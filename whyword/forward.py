"""The differentiable forward pass: input embeddings -> log-probability of a token sequence.

A `Layout` says how one target is read off the model: which fixed (not attributed) ids are
inserted into the input — a causal continuation, an infill candidate — and which positions'
logits score which ids. Captum then varies only the attributed input embeddings.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from whyword.encoding import Encoded
from whyword.errors import TargetError
from whyword.models import LoadedModel

ScoreFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (B,T,H), (B,T) -> (B,)


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


def _masked_layout(
    lm: LoadedModel, enc: Encoded, target: tuple[int, ...], mask_index: int
) -> Layout:
    if not 0 <= mask_index < len(enc.mask_positions):
        raise TargetError(f"There is no mask number {mask_index + 1} in the text.")
    p = enc.mask_positions[mask_index]
    mask_id = lm.tokenizer.mask_token_id
    ids = enc.ids[:p] + (mask_id,) * len(target) + enc.ids[p + 1 :]  # one mask per target piece
    scored = tuple((p + j, t) for j, t in enumerate(target))
    return Layout(ids, p, (), scored, causal=False)


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


def sequence_scorer(
    lm: LoadedModel,
    layouts: Sequence[Layout],
    signs: Sequence[float],
    prefix: HeldPrefix | None = None,
) -> ScoreFn:
    """F(embeds) = sum_i signs[i] * log p(layout_i's ids); all layouts share the attributed ids.

    With `prefix`, F takes only the embeddings after the held prefix (and their mask)."""
    assert len({layout.ids for layout in layouts}) == 1, "layouts must share the attributed input"
    takes_keep = "logits_to_keep" in inspect.signature(lm.model.forward).parameters

    def score(embeds: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        total = torch.zeros(embeds.shape[0], dtype=embeds.dtype)  # (B,)
        for layout, sign in zip(layouts, signs, strict=True):
            total = total + sign * _layout_log_prob(
                lm, layout, embeds, attention_mask, takes_keep, prefix
            )
        return total  # (B,)

    return score


def held_prefix_scorer(
    lm: LoadedModel, layouts: Sequence[Layout], signs: Sequence[float], inputs: torch.Tensor
) -> ScoreFn | None:
    """`sequence_scorer` for IG paths that hold the first token: it runs once, cached.

    None where that cannot work (a masked LM, a score read at the first position) or where
    the cached run does not reproduce F on the real input (a model whose cache differs):
    then IG runs every row in full, as before."""
    held = 1
    if not all(
        layout.causal and layout.insert_at >= held and min(p for p, _ in layout.scored) >= held
        for layout in layouts
    ):
        return None
    try:
        with torch.no_grad():
            out = lm.model(inputs_embeds=inputs[:, :held], use_cache=True)
            layers = tuple((layer.keys, layer.values) for layer in out.past_key_values.layers)
            scorer = sequence_scorer(lm, layouts, signs, HeldPrefix(layers, held))
            length = inputs.shape[1]
            cached = scorer(inputs[:, held:], torch.ones(1, length - held, dtype=torch.long))
            full = sequence_scorer(lm, layouts, signs)(
                inputs, torch.ones(1, length, dtype=torch.long)
            )
    except (AttributeError, TypeError, ValueError, RuntimeError, IndexError):
        return None  # no DynamicCache-style cache on this model: no shortcut
    return scorer if torch.allclose(cached, full, rtol=1e-4, atol=1e-3) else None


def _layout_log_prob(
    lm, layout: Layout, embeds, attention_mask, takes_keep: bool, prefix: HeldPrefix | None
) -> torch.Tensor:
    batch = embeds.shape[0]
    held = 0 if prefix is None else prefix.length
    at = layout.insert_at - held
    fixed = lm.embed(torch.tensor(layout.inserted, dtype=torch.long))  # (I, H)
    full = torch.cat(
        [embeds[:, :at], fixed.unsqueeze(0).expand(batch, -1, -1), embeds[:, at:]], dim=1
    )  # (B, T−held+I, H)
    ones = attention_mask.new_ones(batch, len(layout.inserted))  # (B, I)
    mask = torch.cat(
        [
            attention_mask.new_ones(batch, held),
            attention_mask[:, :at],
            ones,
            attention_mask[:, at:],
        ],
        dim=1,
    )  # (B, T+I): the mask covers the cached prefix too
    positions = torch.tensor([p - held for p, _ in layout.scored], dtype=torch.long)  # (P,)
    ids = torch.tensor([t for _, t in layout.scored], dtype=torch.long)  # (P,)
    if prefix is not None:
        kwargs = {"past_key_values": prefix.for_batch(batch)}
    else:
        kwargs = {"use_cache": False} if layout.causal else {}
    if layout.causal and takes_keep:
        logits = lm.model(
            inputs_embeds=full, attention_mask=mask, logits_to_keep=positions, **kwargs
        ).logits  # (B, P, V)
    else:
        logits = lm.model(inputs_embeds=full, attention_mask=mask, **kwargs).logits[
            :, positions
        ]  # (B, P, V)
    log_probs = torch.log_softmax(logits.float(), dim=-1)  # (B, P, V)
    picked = log_probs.gather(-1, ids.view(1, -1, 1).expand(batch, -1, 1))  # (B, P, 1)
    return picked.squeeze(-1).sum(dim=-1)  # (B,)
