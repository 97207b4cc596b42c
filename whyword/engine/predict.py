"""Top-k predictions: the next token, each [MASK] of a masked LM, or infill on a causal LM."""

from __future__ import annotations

import torch

from whyword.models import calls as model_calls
from whyword.models.budget import rows_per_batch
from whyword.models.encoding import Encoded
from whyword.models.load import LoadedModel
from whyword.results.explanation import Candidate, Prediction
from whyword.text.tokens import token_text, visible

INFILL_NOTE = (
    "Infill scoring on a next-token model: candidates are the top {n} next tokens after the left "
    "context, each rescored as log p(candidate | left) + log p(right context | left, candidate); "
    "probabilities are normalised over those candidates."
)


def predict(text: str, k: int = 10, model=None):
    """The top-k predictions for `text` as a DataFrame: token, token_id, probability (+ mask)."""
    import pandas as pd

    from whyword.models.encoding import encode
    from whyword.models.load import load_model
    from whyword.runtime.options import ExplainOptions

    ExplainOptions(k=k)  # validates k with a clear message
    lm = load_model(model)
    with lm.lock:
        preds = predictions(lm, encode(lm, text), k)
    frame = pd.DataFrame([row for p in preds for row in p.rows()])
    frame.attrs["notes"] = [p.note for p in preds if p.note]
    return frame


@torch.no_grad()
def predictions(
    lm: LoadedModel, enc: Encoded, k: int, infill_candidates: int = 20
) -> tuple[Prediction, ...]:
    """One `Prediction` per slot the text asks for, each with its top-k candidates."""
    if enc.mode == "infill":
        return (_infill(lm, enc, k, max(k, infill_candidates)),)
    ids = torch.tensor([enc.ids], device=lm.device)  # (1, T)
    if enc.mode == "next_token":  # the LM head at the last position only, not (T, V)
        last = torch.tensor([len(enc.ids) - 1], device=lm.device)  # (1,)
        logits = _logits_at(lm, ids, last)[0]  # (1, V)
        return (_top_k(lm, torch.log_softmax(logits[-1], -1), k, "next_token", None, ""),)
    logits = model_calls.logits(lm, ids=ids)[0, list(enc.mask_positions)].float()
    return tuple(  # logits: (M, V) at the masks
        _top_k(lm, torch.log_softmax(logits[i], -1), k, "masked", i, "")
        for i in range(len(enc.mask_positions))
    )


def _top_k(
    lm, log_probs: torch.Tensor, k: int, scoring: str, mask: int | None, note: str
) -> Prediction:
    cands = top_candidates(lm, log_probs, k)
    return Prediction(candidates=cands, scoring=scoring, mask=mask, note=note)


def top_candidates(lm: LoadedModel, log_probs: torch.Tensor, k: int) -> tuple[Candidate, ...]:
    """The `k` most probable tokens of `log_probs` (V',), most probable first."""
    log_probs = log_probs[: lm.vocab_size]  # (V,) some heads are padded past the vocabulary
    top = torch.topk(log_probs, min(k, log_probs.numel()))
    return tuple(
        _candidate(lm, int(i), float(lp)) for lp, i in zip(top.values, top.indices, strict=True)
    )


def _candidate(lm: LoadedModel, token_id: int, log_prob: float) -> Candidate:
    text = token_text(lm.tokenizer, token_id)
    return Candidate(token_id=token_id, text=text, label=visible(text), log_prob=log_prob)


def _infill(lm: LoadedModel, enc: Encoded, k: int, n: int) -> Prediction:
    """Rescore the left context's top-n next tokens with the right context; normalise over them."""
    left = torch.tensor([enc.ids[: enc.gap]], device=lm.device)  # (1, L)
    logits = model_calls.logits(lm, ids=left)[0, -1].float()  # (V,)
    pool = torch.topk(logits[: lm.vocab_size], min(n, lm.vocab_size)).indices.tolist()
    scores = infill_scores(lm, enc, [(c,) for c in pool])  # (n,)
    log_probs = torch.log_softmax(scores, dim=0)  # (n,) a distribution over the candidates
    order = torch.argsort(log_probs, descending=True)[:k]
    cands = tuple(_candidate(lm, pool[int(i)], float(log_probs[i])) for i in order)
    return Prediction(
        candidates=cands,
        scoring="infill",
        mask=0,
        note=INFILL_NOTE.format(n=len(pool)),
        pool=tuple(pool),
    )


def infill_scores(lm: LoadedModel, enc: Encoded, candidates: list[tuple[int, ...]]) -> torch.Tensor:
    """log p(candidate | left) + log p(right | left, candidate) for each candidate sequence."""
    left, right = enc.ids[: enc.gap], enc.ids[enc.gap :]
    out = torch.empty(len(candidates), device="cpu")  # (n,) gathered on the host
    by_length: dict[int, list[int]] = {}
    for i, cand in enumerate(candidates):
        by_length.setdefault(len(cand), []).append(i)
    for length, indices in by_length.items():
        scored = len(right) + length  # positions whose logits (vocabulary wide) a row keeps
        rows = rows_per_batch(lm, len(left) + scored, grad=False, scored_positions=scored)
        for chunk in _chunks(indices, min(32, rows)):
            seqs = [left + tuple(candidates[i]) + right for i in chunk]
            seqs = torch.tensor(seqs, device=lm.device)  # (N, S)
            keep = torch.arange(len(left) - 1, seqs.shape[1] - 1, device=lm.device)  # (S-L,)
            logits = _logits_at(lm, seqs, keep)  # (N, S-L, V)
            log_probs = torch.log_softmax(logits, dim=-1)  # (N, S-L, V)
            picked = log_probs.gather(-1, seqs[:, len(left) :, None]).squeeze(-1)  # (N, S-L)
            out[chunk] = picked.sum(dim=-1).cpu()  # (N,)
    return out


def _logits_at(lm: LoadedModel, ids: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Float logits (N, P, V) at `positions` only (a causal LM's head runs there alone)."""
    return model_calls.logits_at(lm, positions, ids=ids).float()  # (N, P, V)


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]
