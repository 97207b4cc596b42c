"""The reader: the LM on "passage + query", scored over one candidate space for every context.

A `[MASK]` query on a masked LM is fill-mask at the (single) mask; on a causal LM it is the
core's infill scoring (whyword.engine.predict.infill_scores) over one candidate pool shared by every
context, so p(y | x, z) of different passages are over the same answers; a plain prompt asks
for the next token. Every context's distribution is computed without gradients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from whyword.engine.predict import INFILL_NOTE, _logits_at, infill_scores
from whyword.errors import InputError, TargetError, shown
from whyword.models import calls as model_calls
from whyword.models.encoding import Encoded, encode
from whyword.models.load import LoadedModel
from whyword.results.explanation import Candidate, Prediction
from whyword.text.offsets import locate
from whyword.text.tokens import token_text, visible

SEPARATOR = "\n"  # between a passage and the query in the reader's input
POOL_PER_CONTEXT = 5  # infill: each context's top next tokens after the left side join the pool


def joined(passage: str | None, query: str) -> str:
    """The reader's input text: the passage, a newline, the query (the query alone: no evidence)."""
    return query if passage is None else f"{passage}{SEPARATOR}{query}"


@dataclass(frozen=True, eq=False)
class ReaderScores:
    """log p(y | x, z) over one candidate space, one row per context (passages, then none)."""

    mode: str  # "next_token" | "masked" | "infill"
    log_probs: torch.Tensor  # (C, S): C contexts, S candidates (the vocabulary, or the pool)
    candidate_ids: tuple[int, ...] | None  # infill: the pool's token ids; None: the vocabulary

    def __post_init__(self) -> None:
        assert self.log_probs.dim() == 2
        if self.candidate_ids is not None:
            assert self.log_probs.shape[1] == len(self.candidate_ids)

    def column(self, token_id: int) -> int:
        if self.candidate_ids is None:
            return token_id
        return self.candidate_ids.index(token_id)

    def token_id(self, column: int) -> int:
        return column if self.candidate_ids is None else self.candidate_ids[column]


def encode_context(lm: LoadedModel, passage: str | None, query: str) -> Encoded:
    enc = encode(lm, joined(passage, query))
    if enc.mode == "masked" and len(enc.mask_positions) != 1:
        raise InputError("Evidence reads one [MASK] at a time: leave one [MASK] in the query.")
    return enc


@torch.no_grad()
def read(
    lm: LoadedModel, query: str, passages: Sequence[str | None], extra: Sequence[int] = ()
) -> ReaderScores:
    """Each context's distribution over the answers; `extra` ids always join an infill pool."""
    encs = [encode_context(lm, p, query) for p in passages]
    mode = encs[0].mode
    if mode == "infill":
        return _infill(lm, encs, extra)
    rows = []
    for enc in encs:  # one context a call: contexts differ in length, no padding games
        ids = torch.tensor([enc.ids], device=lm.device)  # (1, T)
        at = enc.mask_positions[0] if mode == "masked" else len(enc.ids) - 1
        if lm.kind == "causal":
            logits = _logits_at(lm, ids, torch.tensor([at], device=lm.device))[0, 0]  # (V,)
        else:
            logits = model_calls.logits(lm, ids=ids)[0, at].float()  # (V,)
        rows.append(torch.log_softmax(logits[: lm.vocab_size], dim=-1).cpu())  # (V,)
    return ReaderScores(mode, torch.stack(rows), None)  # (C, V)


def _infill(lm: LoadedModel, encs: Sequence[Encoded], extra: Sequence[int]) -> ReaderScores:
    pool: dict[int, None] = dict.fromkeys(int(i) for i in extra)
    lefts = []
    for enc in encs:
        left = torch.tensor([enc.ids[: enc.gap]], device=lm.device)  # (1, L)
        logits, cache = model_calls.cached_call(lm, ids=left)  # (1, L, V'), its cache
        last = torch.log_softmax(logits[0, -1, : lm.vocab_size].float(), dim=-1)  # (V,)
        lefts.append((cache, last))
        top = torch.topk(last, min(POOL_PER_CONTEXT, lm.vocab_size))
        pool.update(dict.fromkeys(int(i) for i in top.indices))
    ids = tuple(pool)
    rows = []
    for enc, (cache, last) in zip(encs, lefts, strict=True):
        try:
            rows.append(_cached_infill(lm, enc, ids, cache, last))  # (S,)
        except (AttributeError, TypeError, ValueError, RuntimeError):  # no usable cache
            rows.append(infill_scores(lm, enc, [(c,) for c in ids]))
    log_probs = torch.log_softmax(torch.stack(rows), dim=-1)  # (C, S) normalised over the pool
    return ReaderScores("infill", log_probs, ids)


def _cached_infill(lm, enc: Encoded, ids, cache, last: torch.Tensor) -> torch.Tensor:
    """log p(c | left) + log p(right | left, c) for each pool id c, the left side run once:
    its keys and values are shared by every candidate (the same sums as infill_scores)."""
    from whyword.engine.sequences import HeldPrefix
    from whyword.models.budget import rows_per_batch

    right = list(enc.ids[enc.gap :])
    gap = enc.gap
    layers = tuple((layer.keys, layer.values) for layer in cache.layers)
    prefix = HeldPrefix(layers, gap)
    out = torch.empty(len(ids))  # (S,) on the host
    batch = min(
        32, rows_per_batch(lm, gap + 1 + len(right), grad=False, scored_positions=len(right) + 1)
    )
    for start in range(0, len(ids), batch):
        chunk = list(ids[start : start + batch])
        seqs = torch.tensor([[c, *right] for c in chunk], device=lm.device)  # (N, 1+R)
        first = last[torch.tensor(chunk, device=last.device)].cpu()  # (N,) log p(c | left)
        if not right:
            out[start : start + len(chunk)] = first
            continue
        mask = torch.ones(len(chunk), gap + seqs.shape[1], dtype=torch.long, device=lm.device)
        past = prefix.for_batch(len(chunk))
        logits = model_calls.logits(lm, ids=seqs, mask=mask, past=past)  # (N, 1+R, V')
        logits = logits[:, :-1, : lm.vocab_size].float()  # (N, R, V)
        log_probs = torch.log_softmax(logits, dim=-1)  # (N, R, V)
        picked = log_probs.gather(-1, seqs[:, 1:, None]).squeeze(-1)  # (N, R)
        out[start : start + len(chunk)] = first + picked.sum(-1).cpu()  # (N,)
    return out


def resolve_target(lm: LoadedModel, query: str, target) -> int | None:
    """One token id for a typed target (None stays None: the marginal's top-1 is taken)."""
    from whyword.engine import targets

    if target is None or (isinstance(target, str) and target == ""):
        return None
    enc = encode_context(lm, None, query)
    got = targets.resolve(lm, enc, target, 0, "target")
    if len(got.ids) != 1:
        raise TargetError(
            f"The target {shown(got.label)} is {len(got.ids)} tokens on this model; the evidence "
            "marginal is over single tokens: pick one token (a bar) or its first piece."
        )
    return got.ids[0]


def prediction(lm: LoadedModel, scores: ReaderScores, row: int, k: int) -> Prediction:
    """The top-k of one context as the core's `Prediction` (infill: with its pool)."""
    log_probs = scores.log_probs[row]  # (S,)
    top = torch.topk(log_probs, min(k, log_probs.numel()))
    cands = []
    for lp, col in zip(top.values.tolist(), top.indices.tolist(), strict=True):
        token_id = scores.token_id(int(col))
        text = token_text(lm.tokenizer, token_id)
        cands.append(Candidate(token_id=token_id, text=text, label=visible(text), log_prob=lp))
    infill = scores.mode == "infill"
    return Prediction(
        candidates=tuple(cands),
        scoring=scores.mode,
        mask=0 if scores.mode != "next_token" else None,
        note=INFILL_NOTE.format(n=len(scores.candidate_ids)) if infill else "",
        pool=scores.candidate_ids if infill else (),
    )


def token_parts(lm: LoadedModel, text: str, ids: Sequence[int], passage: str) -> tuple[str, ...]:
    """Per token of the reader's input: "passage" or "query" (from the tokenizer's offsets);
    a token without characters (BOS, [CLS], [SEP]) goes with the token before it."""
    spans = locate(lm.tokenizer, text, ids).spans
    parts, last = [], "passage"
    for span in spans:
        if span is not None:
            last = "passage" if span[0] < len(passage) else "query"
        parts.append(last)
    return tuple(parts)
