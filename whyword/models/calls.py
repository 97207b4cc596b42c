"""The one place WhyWord runs a model: every forward, cached step and `generate` goes here.

A handful of calls, each named for what it returns: `logits` (every position), `logits_at`
(only the positions a caller reads: the LM head runs there alone where a causal model takes
`logits_to_keep`), `cached_call` (a causal call that builds or extends a KV cache),
`generate`, `encoder_states` for the retriever's sentence encoder, and two calls with hooks for
the layers view: `tapped` (keeps what some modules read or wrote at a few positions) and
`patched` (rows of one call, each with some module's output changed). Whether a model takes
`logits_to_keep` is looked up once per model class. A causal call that neither reads nor
builds a cache says so (`use_cache=False`), so no call builds a cache nobody reads.
tests/unit/models/test_model_calls.py fails if any other module of the package calls a model itself.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch

from whyword.errors import WhyWordError
from whyword.models.heads import HeadParts, value_norms
from whyword.models.hooks import Patch, Tap, patching, sharing, tapping
from whyword.models.load import LoadedModel


@functools.lru_cache(maxsize=64)
def _class_takes_keep(cls: type) -> bool:
    return "logits_to_keep" in inspect.signature(cls.forward).parameters


def takes_keep(lm: LoadedModel) -> bool:
    """Does the model's forward take `logits_to_keep`? Per model class, unless an instance
    replaces its own forward (then that forward is asked)."""
    model = lm.model
    if "forward" in vars(model):
        return "logits_to_keep" in inspect.signature(model.forward).parameters
    return _class_takes_keep(type(model))


def _inputs(lm: LoadedModel, ids, embeds, mask, past) -> dict[str, Any]:
    assert (ids is None) != (embeds is None), "give input ids or input embeddings"
    kwargs: dict[str, Any] = {"input_ids": ids} if ids is not None else {"inputs_embeds": embeds}
    if mask is not None:
        kwargs["attention_mask"] = mask
    if past is not None:
        kwargs["past_key_values"] = past  # read (and extended in place: pass a fresh one)
    elif lm.kind == "causal":
        kwargs["use_cache"] = False
    return kwargs


def logits(
    lm: LoadedModel,
    *,
    ids: torch.Tensor | None = None,
    embeds: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
    past: Any = None,
) -> torch.Tensor:
    """The logits (B, T, V') at every position of `ids` (B, T) or `embeds` (B, T, H), in
    the model's dtype; `past`: a cache of earlier positions the call reads."""
    return lm.model(**_inputs(lm, ids, embeds, mask, past)).logits


def logits_at(
    lm: LoadedModel,
    positions: torch.Tensor,
    *,
    ids: torch.Tensor | None = None,
    embeds: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
    past: Any = None,
) -> torch.Tensor:
    """The logits (B, P, V') at `positions` (P,) only: a causal model that takes
    `logits_to_keep` runs its LM head there alone (not over (T, V)); others compute every
    position and the rows are picked."""
    kwargs = _inputs(lm, ids, embeds, mask, past)
    if lm.kind == "causal" and takes_keep(lm):
        return lm.model(**kwargs, logits_to_keep=positions).logits  # (B, P, V')
    return lm.model(**kwargs).logits[:, positions]  # (B, P, V')


def cached_call(
    lm: LoadedModel,
    *,
    ids: torch.Tensor | None = None,
    embeds: torch.Tensor | None = None,
    past: Any = None,
) -> tuple[torch.Tensor, Any]:
    """A causal call that builds a KV cache (or extends `past`): the logits (B, T, V') of
    the new positions and the cache after them."""
    assert (ids is None) != (embeds is None), "give input ids or input embeddings"
    kwargs: dict[str, Any] = {"input_ids": ids} if ids is not None else {"inputs_embeds": embeds}
    out = lm.model(**kwargs, past_key_values=past, use_cache=True)
    return out.logits, out.past_key_values


def generate(lm: LoadedModel, input_ids: torch.Tensor, **kwargs: Any) -> Any:
    """`model.generate` on `input_ids` (1, T) with the caller's decoding arguments."""
    return lm.model.generate(input_ids=input_ids, **kwargs)


def encoder_states(
    encoder: torch.nn.Module, embeds: torch.Tensor, mask: torch.Tensor, type_ids: torch.Tensor
) -> torch.Tensor:
    """A sentence encoder's last hidden states (B, T, D) for token embeddings (B, T, H)."""
    return encoder(
        inputs_embeds=embeds, attention_mask=mask, token_type_ids=type_ids
    ).last_hidden_state


def tapped(
    lm: LoadedModel, ids: torch.Tensor, positions: torch.Tensor, taps: Sequence[Tap]
) -> torch.Tensor:
    """One call on `ids` (1, T) with `taps` keeping what their modules read or wrote at
    `positions` (P,) (see whyword/models/hooks.py): the model's own logits (P, V') there."""
    with tapping(taps, positions):
        return logits_at(lm, positions, ids=ids)[0]  # (P, V')


def patched(
    lm: LoadedModel,
    ids: torch.Tensor,
    positions: torch.Tensor,
    patches: Sequence[Patch],
    rows: int,
    blocks: Sequence[torch.nn.Module] = (),
    changed: Sequence[int] = (),
) -> torch.Tensor:
    """`rows` copies of `ids` (1, T) in one call, each changed by its own patches: the logits
    (rows, P, V') at `positions` (P,). With the model's `blocks` and, per block, how many
    leading rows its patches have reached (`changed`, rows sorted so), the rest — still the
    plain prompt — is computed once per block (whyword/models/hooks.py: sharing)."""
    batch = ids.expand(rows, -1)  # (rows, T)
    with patching(patches), sharing(blocks, changed, rows):
        return logits_at(lm, positions, ids=batch)  # (rows, P, V')


@contextmanager
def eager_attention(lm: LoadedModel) -> Iterator[None]:
    """Inside: the model computes its attention weights (transformers' "eager" attention);
    its own implementation (sdpa, ...) is put back on exit, whatever happens. Hold `lm.lock`:
    the model is shared."""
    model = lm.model
    before = model.config._attn_implementation
    try:
        if before != "eager":
            model.set_attn_implementation("eager")
        yield
    finally:
        if model.config._attn_implementation != before:
            model.set_attn_implementation(before)


def attention_rows(
    lm: LoadedModel, parts: list[HeadParts], ids: torch.Tensor, positions: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Every block's attention weights (L, heads, P, T) from `positions` (P,) of `ids` (1, T)
    to every token, and the moved norms α_{p,j} · ‖v_j W_O,h‖ (L, heads, P, T)
    (whyword/models/heads.py), from one eager forward. Hooks keep only the rows asked for
    (a block's T × T weights and its values live only while that block runs) and are removed
    whatever happens; the model's attention implementation is restored after the call."""
    values: list[torch.Tensor] = []  # the running block's values (T, kv, d), then dropped
    weights: list[torch.Tensor] = []
    moved: list[torch.Tensor] = []

    def value_hook(part: HeadParts):
        def hook(module, args, output) -> None:
            values.append(part.values(output.detach()))  # (T, kv, d)

        return hook

    def attention_hook(part: HeadParts):
        def hook(module, args, output) -> None:
            alpha = output[1] if isinstance(output, tuple) and len(output) > 1 else None
            if alpha is None:
                raise WhyWordError("This model's attention does not return its weights.")
            rows = alpha.detach()[0][:, positions].float()  # (heads, P, T)
            norms = value_norms(part, values.pop())  # (heads, T)
            weights.append(rows)
            moved.append(rows * norms[:, None, :])  # (heads, P, T)

        return hook

    handles = []
    try:
        for part in parts:
            handles.append(part.value_source.register_forward_hook(value_hook(part)))
            handles.append(part.attention.register_forward_hook(attention_hook(part)))
        with eager_attention(lm):
            logits_at(lm, positions[-1:], ids=ids)  # (1, 1, V'): the head runs at one row
    finally:
        for handle in handles:
            handle.remove()
    return torch.stack(weights), torch.stack(moved)  # (L, heads, P, T) each


def tapped_logits(
    lm: LoadedModel,
    embeds: torch.Tensor,
    inputs_of: list[torch.nn.Module],
    outputs_of: list[torch.nn.Module],
) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
    """The logits (1, T, V') of input embeddings `embeds` (1, T, H), and the tensors that
    went into each module of `inputs_of` and came out of each of `outputs_of` (each (1, T, ·)),
    still in the autograd graph, so a caller can take gradients at them. What is tapped is
    what backward keeps anyway; hooks are removed whatever happens."""
    into: list[torch.Tensor | None] = [None] * len(inputs_of)  # in the callers' order
    out_of: list[torch.Tensor | None] = [None] * len(outputs_of)

    def pre(i: int):
        def hook(module, args, kwargs) -> None:
            into[i] = args[0] if args else next(iter(kwargs.values()))  # (1, T, ·)

        return hook

    def post(i: int):
        def hook(module, args, output) -> None:
            out_of[i] = output[0] if isinstance(output, tuple) else output  # (1, T, ·)

        return hook

    handles = []
    try:
        for i, module in enumerate(inputs_of):
            handles.append(module.register_forward_pre_hook(pre(i), with_kwargs=True))
        for i, module in enumerate(outputs_of):
            handles.append(module.register_forward_hook(post(i)))
        mask = torch.ones(embeds.shape[:2], dtype=torch.long, device=embeds.device)  # (1, T)
        out = logits(lm, embeds=embeds, mask=mask)  # (1, T, V')
    finally:
        for handle in handles:
            handle.remove()
    assert all(t is not None for t in (*into, *out_of)), "every tapped module ran"
    return out, into, out_of
