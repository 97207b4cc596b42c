"""What the model expected at every position of a text: probability, rank, surprisal, entropy.

Causal LMs: one forward pass (no grad) over the whole text; the row for position i reads the
distribution at position i − 1 and asks where the token that actually came next stands in it.
The text is tokenized as the tokenizer does it (`encode`): when the tokenizer puts a start token
(BOS) first, the first real token gets a row predicted from it; otherwise (GPT-2, SmolLM2) the
first token has no left context and no row. Nothing is prepended behind the user's back.

Masked LMs: the pseudo-log-likelihood — each non-special position is masked in turn (batched in
chunks) and scored from both sides, p(token_i | all the other tokens).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any, Literal

import torch

from whyword.errors import InputError
from whyword.models import calls as model_calls
from whyword.models.encoding import clean_text, encode, has_mask
from whyword.models.load import LoadedModel
from whyword.results.explanation import Candidate
from whyword.text.tokens import Token, make_tokens, token_text, visible

Scoring = Literal["causal", "pseudo_log_likelihood"]
PLL_CHUNK = 32  # masked copies of the text per forward (PLL): memory grows with chunk × length
LN2 = math.log(2.0)


@dataclass(frozen=True)
class PositionRow:
    """The model's expectation at one position and how the actual token fared in it."""

    position: int  # index of the token in `PositionTable.tokens`
    token: Token  # the token that actually came (causal: next after position − 1)
    log_prob: float  # natural log of its probability
    rank: int  # 1 = the model's top prediction
    entropy: float  # entropy of the whole distribution, in bits
    top: tuple[Candidate, ...]  # the top-k predictions there, most probable first

    def __post_init__(self) -> None:
        assert self.log_prob <= 1e-6 and self.rank >= 1 and self.entropy >= -1e-6
        assert all(a.log_prob >= b.log_prob for a, b in pairwise(self.top))
        assert not self.top or (self.rank == 1) == (self.log_prob >= self.top[0].log_prob)

    @property
    def probability(self) -> float:
        return math.exp(self.log_prob)

    @property
    def surprisal(self) -> float:
        """−log2 p of the actual token, in bits."""
        return -self.log_prob / LN2


@dataclass(frozen=True)
class PositionTable:
    """One row per predicted position of a text, with the text's tokens and how it was scored."""

    model: str
    scoring: Scoring
    tokens: tuple[Token, ...]  # every token of the text, specials included
    rows: tuple[PositionRow, ...]
    k: int

    def __post_init__(self) -> None:
        assert all(0 <= r.position < len(self.tokens) for r in self.rows)
        assert all(r.token == self.tokens[r.position] for r in self.rows)
        assert all(0 < len(r.top) <= self.k for r in self.rows)

    @property
    def total_surprisal(self) -> float:
        """Sum of the rows' surprisal (bits): −log2 p(text) for a causal LM, given its first token."""
        return sum(r.surprisal for r in self.rows)

    @property
    def perplexity(self) -> float:
        """2 ** (mean surprisal): the model's average branching factor over these positions."""
        return 2.0 ** (self.total_surprisal / len(self.rows)) if self.rows else float("nan")

    def to_dataframe(self):
        """One row per position; the top-k as three list columns (labels, ids, probabilities)."""
        import pandas as pd

        frame = pd.DataFrame([_flat(r) for r in self.rows], columns=COLUMNS)
        frame.attrs.update(model=self.model, scoring=self.scoring, k=self.k)
        return frame

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rows"] = [_flat(r) for r in self.rows]
        data["perplexity"] = self.perplexity if self.rows else None
        return data

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)


COLUMNS = [
    "position",
    "token_id",
    "token",
    "probability",
    "rank",
    "surprisal",
    "entropy",
    "top_k",
    "top_k_ids",
    "top_k_probabilities",
]


def _flat(r: PositionRow) -> dict[str, Any]:
    return {
        "position": r.position,
        "token_id": r.token.id,
        "token": r.token.label,
        "probability": r.probability,
        "rank": r.rank,
        "surprisal": r.surprisal,
        "entropy": r.entropy,
        "top_k": [c.label for c in r.top],
        "top_k_ids": [c.token_id for c in r.top],
        "top_k_probabilities": [c.probability for c in r.top],
    }


def positions(text: str, k: int = 5, model=None):
    """What the model expected at each position of `text`, as a DataFrame (one row per position).

    Columns: position, token_id, token (readable), probability, rank (1 = top), surprisal (bits,
    −log2 p), entropy (bits), and the top-k predictions there as list columns `top_k`,
    `top_k_ids`, `top_k_probabilities`. Causal LMs: one forward pass; the first token has a row
    only when the tokenizer puts a start token before it. Masked LMs: pseudo-log-likelihood
    (each position masked in turn, scored from both sides). `frame.attrs` holds model, scoring, k.
    """
    from whyword.models.load import load_model
    from whyword.runtime.options import ExplainOptions

    ExplainOptions(k=k)  # validates k with a clear message
    lm = load_model(model)
    ids = text_ids(lm, text)
    with lm.lock:
        return position_table(lm, ids, k).to_dataframe()


def text_ids(lm: LoadedModel, text: str) -> tuple[int, ...]:
    """The ids of `text` as the tokenizer gives them (specials included); [MASK] is refused."""
    if lm.kind == "causal":
        enc = encode(lm, text)
        if enc.mode != "next_token":
            raise InputError("Positions score the text as written: remove [MASK] from it.")
        return enc.ids
    text = clean_text(text)
    if has_mask(text):
        raise InputError(
            "Positions score every token of the text by masking each in turn: remove [MASK]."
        )
    ids = tuple(lm.tokenizer(text, add_special_tokens=True)["input_ids"])
    if len(ids) > lm.max_tokens:
        raise InputError(
            f"The text is {len(ids)} tokens long; at most {lm.max_tokens} can be scored. Shorten it."
        )
    return ids


@torch.no_grad()
def position_table(lm: LoadedModel, ids: tuple[int, ...], k: int = 5) -> PositionTable:
    """The computational core: ids → a `PositionTable` (one forward for causal, chunks for PLL)."""
    tokens = make_tokens(lm.tokenizer, ids)
    if lm.kind == "causal":
        where, log_probs = _causal(lm, ids)
        scoring: Scoring = "causal"
    else:
        where, log_probs = _pseudo(lm, ids, tokens)
        scoring = "pseudo_log_likelihood"
    actual = torch.tensor([ids[p] for p in where], device="cpu")  # (P,) beside log_probs
    rows = _rows(lm, tokens, where, actual, log_probs, k) if where else ()
    return PositionTable(model=lm.name, scoring=scoring, tokens=tokens, rows=rows, k=k)


def _causal(lm: LoadedModel, ids: tuple[int, ...]) -> tuple[list[int], torch.Tensor]:
    """Positions 1..T−1 and the log-distribution that predicted each (read at position − 1)."""
    if len(ids) < 2:
        return [], torch.empty(0, lm.vocab_size, device="cpu")
    input_ids = torch.tensor([ids], device=lm.device)  # (1, T)
    logits = model_calls.logits(lm, ids=input_ids)[0, :-1].float().cpu()  # (T-1, V')
    return list(range(1, len(ids))), torch.log_softmax(logits[:, : lm.vocab_size], -1)  # (T-1, V)


def _pseudo(
    lm: LoadedModel, ids: tuple[int, ...], tokens: tuple[Token, ...]
) -> tuple[list[int], torch.Tensor]:
    """Each non-special position masked in turn; its log-distribution from both sides."""
    mask_id = lm.tokenizer.mask_token_id
    if mask_id is None:
        raise InputError(f"Model '{lm.name}' has no mask token, so it cannot score positions.")
    where = [i for i, t in enumerate(tokens) if not t.special]
    out = []
    for start in range(0, len(where), PLL_CHUNK):
        chunk = torch.tensor(where[start : start + PLL_CHUNK], device=lm.device)  # (C,)
        batch = torch.tensor([ids], device=lm.device).repeat(len(chunk), 1)  # (C, T)
        rows = torch.arange(len(chunk), device=lm.device)  # (C,)
        batch[rows, chunk] = mask_id  # (C, T) one mask per copy
        logits = model_calls.logits(lm, ids=batch).float()  # (C, T, V')
        picked = logits[rows, chunk, : lm.vocab_size]  # (C, V)
        out.append(torch.log_softmax(picked, -1).cpu())  # (C, V)
    return where, torch.cat(out) if out else torch.empty(0, lm.vocab_size, device="cpu")  # (P, V)


def _rows(
    lm: LoadedModel,
    tokens: tuple[Token, ...],
    where: list[int],
    actual: torch.Tensor,
    log_probs: torch.Tensor,
    k: int,
) -> tuple[PositionRow, ...]:
    picked = log_probs.gather(-1, actual[:, None]).squeeze(-1)  # (P,)
    ranks = 1 + (log_probs > picked[:, None]).sum(-1)  # (P,) strictly better tokens + 1
    entropy = -(log_probs.exp() * log_probs).nansum(-1) / LN2  # (P,) bits; 0·log 0 = 0
    top = torch.topk(log_probs, min(k, log_probs.shape[-1]), dim=-1)  # (P, k)
    return tuple(
        PositionRow(
            position=p,
            token=tokens[p],
            log_prob=float(picked[i]),
            rank=int(ranks[i]),
            entropy=max(0.0, float(entropy[i])),
            top=tuple(
                _candidate(lm, int(t), float(lp))
                for lp, t in zip(top.values[i], top.indices[i], strict=True)
            ),
        )
        for i, p in enumerate(where)
    )


def _candidate(lm: LoadedModel, token_id: int, log_prob: float) -> Candidate:
    text = token_text(lm.tokenizer, token_id)
    return Candidate(token_id=token_id, text=text, label=visible(text), log_prob=log_prob)
