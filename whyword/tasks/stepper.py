"""Step-through generation for class: the next-step distribution, one token's forward per click.

A session is just the token ids so far. Their keys/values (`past_key_values`) and last-position
logits live in a small `BoundedCache` (`KVStore`) keyed by (model, ids): appending a token extends
the cached prefix with ONE token's forward; undo finds the shorter prefix still cached (or
recomputes it). Nothing per user is kept anywhere else, so memory stays bounded however many
users step at once.

Warping (temperature, top-k, top-p) uses transformers' own logits processors in generate's order,
so the warped distribution equals `model.generate(do_sample=True, ...)`'s `out.scores`.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass

import torch

from whyword.errors import InputError, shown
from whyword.models import calls as model_calls
from whyword.models.load import LoadedModel
from whyword.runtime.bounded import BoundedCache
from whyword.runtime.cache_keys import model_key
from whyword.runtime.options import GenerateOptions
from whyword.text.tokens import Token, make_tokens, token_text, visible

LN2 = math.log(2.0)
STORE_SIZE = 12  # cached (model, ids) prefixes across all sessions; each ≤ a few MB at 200 tokens
STORE_BYTES = 256 * 2**20  # and their keys/values at most this much (≈ 47 MB at 1,024 tokens)


@dataclass(frozen=True)
class Warp:
    """How sampling reshapes the distribution: temperature, then top-k, then top-p."""

    temperature: float = 1.0  # divide the logits by this (< 1 sharper, > 1 flatter)
    top_k: int | None = None  # keep the k most probable tokens (None: all)
    top_p: float | None = None  # keep the smallest set with this much mass (None: all)

    def __post_init__(self) -> None:  # GenerateOptions checks the ranges with clear messages
        GenerateOptions(strategy="sample", **self.__dict__)

    def processors(self):
        """transformers' warpers, in generate's order and with generate's skip rules."""
        from transformers import (
            LogitsProcessorList,
            TemperatureLogitsWarper,
            TopKLogitsWarper,
            TopPLogitsWarper,
        )

        out = LogitsProcessorList()
        if self.temperature != 1.0:
            out.append(TemperatureLogitsWarper(self.temperature))
        if self.top_k:
            out.append(TopKLogitsWarper(top_k=self.top_k, min_tokens_to_keep=1))
        if self.top_p is not None and self.top_p < 1.0:
            out.append(TopPLogitsWarper(top_p=self.top_p, min_tokens_to_keep=1))
        return out


@dataclass(frozen=True)
class Choice:
    """One candidate next token in both distributions."""

    token_id: int
    text: str  # exact text, leading space included
    label: str  # readable (␣ for a space)
    raw_log_prob: float  # the model's own softmax
    raw_rank: int  # 1 = the model's top token
    log_prob: float  # after warping; -inf when top-k / top-p cut it off
    cut: bool  # True: top-k or top-p removed it (it can never be sampled)

    def __post_init__(self) -> None:
        assert self.raw_rank >= 1 and self.raw_log_prob <= 1e-5
        assert self.cut == (self.log_prob == -math.inf)


@dataclass(frozen=True)
class NextStep:
    """The distribution after `tokens`: the top choices (by raw probability) raw and warped."""

    model: str
    tokens: tuple[Token, ...]  # the context so far
    warp: Warp
    choices: tuple[Choice, ...]  # the k most probable raw tokens, most probable first
    kept: int  # how many vocabulary tokens survive the warp (the whole vocabulary when none)
    raw_entropy: float  # bits
    entropy: float  # bits, of the warped distribution

    def __post_init__(self) -> None:
        assert self.choices and self.kept >= 1
        assert all(a.raw_rank < b.raw_rank for a, b in itertools.pairwise(self.choices))


def cache_bytes(past, logits: torch.Tensor) -> int:
    """Bytes held by a KV cache (transformers' DynamicCache layers, or nested tuples)."""
    layers = getattr(past, "layers", None)
    if layers is not None:
        parts = [t for layer in layers for t in (layer.keys, layer.values) if t is not None]
    else:
        parts = [t for layer in past or () for t in layer]
    return logits.nbytes + sum(t.nbytes for t in parts if isinstance(t, torch.Tensor))


class KVStore(BoundedCache[tuple[object, torch.Tensor]]):
    """(model, ids) → (past_key_values, last logits (V,)), shared by all sessions: at most
    `size` entries and `max_bytes` of tensors. The model enters by `model_key` (its weights
    object, not its name), so two models loaded under one name never share an entry."""

    def __init__(self, size: int = STORE_SIZE, max_bytes: int = STORE_BYTES) -> None:
        super().__init__(max_entries=size, max_bytes=max_bytes, size=lambda i: cache_bytes(*i))
        self.size = size

    @staticmethod
    def key(lm: LoadedModel, ids: tuple[int, ...]) -> tuple:
        return model_key(lm), tuple(ids)


STORE = KVStore()
NO_WARP = Warp()


@torch.no_grad()
def last_logits(lm: LoadedModel, ids: tuple[int, ...], store: KVStore = STORE) -> torch.Tensor:
    """The logits (V,) after `ids`: cached; else one token's forward on the cached prefix
    `ids[:-1]`; else a full forward. Hold `lm.lock`."""
    if not ids:
        raise InputError("Type some text first: the model needs at least one token to continue.")
    if len(ids) > lm.max_tokens:
        raise InputError(f"The text is {len(ids)} tokens long; this model reads {lm.max_tokens}.")
    hit = store.get(store.key(lm, ids))
    if hit is not None:
        return hit[1]
    prefix = store.get(store.key(lm, ids[:-1]), count=False) if len(ids) > 1 else None
    if prefix is not None:
        past = copy.deepcopy(prefix[0])  # the stored prefix stays as it was (undo needs it)
        new = torch.tensor([ids[-1:]], device=lm.device)  # (1, 1)
    else:
        past = None
        new = torch.tensor([ids], device=lm.device)  # (1, T)
    out, cache = model_calls.cached_call(lm, ids=new, past=past)  # (1, T', V'), its cache
    logits = out[0, -1, : lm.vocab_size].float().cpu()  # (V,)
    store.put(store.key(lm, ids), (cache, logits))
    return logits


def next_step(
    lm: LoadedModel, ids: tuple[int, ...], warp: Warp = NO_WARP, k: int = 10, store=STORE
) -> NextStep:
    """The next-step distribution after `ids` (cached), raw and warped, top `k` raw choices."""
    if lm.kind != "causal":
        raise InputError(
            f"'{lm.name}' is a masked language model: it fills gaps and cannot continue a text."
        )
    with lm.lock:
        logits = last_logits(lm, ids, store)  # (V,)
    return warp_step(lm, ids, logits, warp, k)


def warp_logits(logits: torch.Tensor, warp: Warp) -> torch.Tensor:
    """generate's warped scores (V,) for these raw logits (V,); -inf where cut off."""
    return warp.processors()(torch.zeros(1, 1, dtype=torch.long), logits[None].clone())[0]  # (V,)


def warp_step(lm: LoadedModel, ids, logits: torch.Tensor, warp: Warp, k: int = 10) -> NextStep:
    """Re-warp cached logits (V,): no model call — what the sliders do."""
    raw = torch.log_softmax(logits.double(), -1)  # (V,)
    warped = torch.log_softmax(warp_logits(logits, warp).double(), -1)  # (V,)
    top = torch.topk(raw, min(k, raw.shape[0]))  # (k,)
    choices = []
    for rank, (lp, tid) in enumerate(
        zip(top.values.tolist(), top.indices.tolist(), strict=True), start=1
    ):
        text = token_text(lm.tokenizer, tid)
        w = float(warped[tid])
        choices.append(Choice(tid, text, visible(text), lp, rank, w, w == -math.inf))
    return NextStep(
        model=lm.name,
        tokens=make_tokens(lm.tokenizer, ids),
        warp=warp,
        choices=tuple(choices),
        kept=int(torch.isfinite(warped).sum()),
        raw_entropy=_entropy(raw),
        entropy=_entropy(warped),
    )


def _entropy(log_probs: torch.Tensor) -> float:
    return max(0.0, float(-(log_probs.exp() * log_probs).nansum() / LN2))  # bits


def auto_complete(
    lm: LoadedModel,
    ids: tuple[int, ...],
    n: int,
    strategy: str = "sample",
    warp: Warp = NO_WARP,
    seed: int = 0,
    store: KVStore = STORE,
) -> tuple[int, ...]:
    """`ids` plus up to `n` tokens picked as `whyword.tasks.generate(strategy=..., seed=...)` picks
    them (greedy: argmax; sample: one multinomial draw per step from the warped softmax, in an
    RNG forked and seeded once); stops after the model's end-of-text token."""
    GenerateOptions(max_new_tokens=n, strategy="sample", seed=seed, **warp.__dict__)
    if strategy not in ("greedy", "sample"):
        raise InputError(f"Auto-complete picks greedily or by sampling, not {shown(strategy)}.")
    if len(ids) + n > lm.max_tokens:
        raise InputError(
            f"{len(ids)} tokens plus {n} new ones exceeds the model's {lm.max_tokens}."
        )
    eos = lm.model.generation_config.eos_token_id
    eos_ids = set(eos if isinstance(eos, list) else [eos]) - {None}
    out = tuple(ids)
    with lm.lock, torch.random.fork_rng(devices=[lm.device] if lm.device.type == "cuda" else []):
        torch.manual_seed(seed)
        for _ in range(n):
            logits = last_logits(lm, out, store)  # (V,)
            if strategy == "greedy":
                pick = int(torch.argmax(logits))
            else:
                probs = torch.softmax(warp_logits(logits.to(lm.device), warp), -1)  # (V,)
                pick = int(torch.multinomial(probs[None], num_samples=1)[0, 0])
            out = (*out, pick)
            if pick in eos_ids:
                break
    return out


@dataclass(frozen=True)
class Session:
    """A step-through session: the ids so far and the history for undo (plain, picklable)."""

    model: str
    prompt: tuple[int, ...]  # the typed text's ids
    ids: tuple[int, ...]  # prompt + appended tokens

    def __post_init__(self) -> None:
        assert self.ids[: len(self.prompt)] == self.prompt

    def append(self, token_id: int) -> Session:
        return Session(self.model, self.prompt, (*self.ids, int(token_id)))

    def undo(self) -> Session:
        """One appended token fewer (the prompt itself is never undone)."""
        if len(self.ids) == len(self.prompt):
            return self
        return Session(self.model, self.prompt, self.ids[:-1])

    @property
    def appended(self) -> tuple[int, ...]:
        return self.ids[len(self.prompt) :]
