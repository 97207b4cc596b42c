"""The readable replacement vocabulary of a tokenizer: the tokens an edit may put in a text.

HotFlip (Ebrahimi et al., 2018) ranks every token of the vocabulary as a replacement; a
replacement a reader cannot read (a byte piece of a character, `<|endoftext|>`, `##ing`) says
nothing to them. The filter, stated once (`RULE`): a token is a candidate when it is not a
special token, lies inside the model's vocabulary, and its text (whyword/text/tokens.py
`token_text`) is a space followed by letters only — a word-initial token: `␣Paris`,
`␣Germany`, `␣the`. Byte pieces (`⟨e5 8c⟩`), digits, punctuation and word continuations
(`ing`, WordPiece `##ing`) never pass. A word-initial piece of a longer word the tokenizer
splits (SmolLM2's `␣exfol`) does pass: the tokenizer cannot tell it from a word.

Computed once per tokenizer (0.3 s for SmolLM2's 49,152 tokens) and kept in a small bounded
cache keyed by the tokenizer (`CANDIDATES`).
"""

from __future__ import annotations

import torch

from whyword.models.load import LoadedModel
from whyword.runtime.bounded import BoundedCache
from whyword.text.tokens import special_ids, token_text

RULE = (
    "word-initial tokens only: a space followed by letters, no special tokens, byte pieces, "
    "digits, punctuation or word continuations"
)
TOKENIZERS_KEPT = 4  # a few models' lists (SmolLM2's: 32k ids, 250 KB as int64)

# (tokenizer class, name or path, vocabulary size) -> the candidate ids (C,) on the CPU
CANDIDATES: BoundedCache[torch.Tensor] = BoundedCache(max_entries=TOKENIZERS_KEPT)


def readable(text: str) -> bool:
    """Is `text` (a token's surface text) a word-initial token of letters only?"""
    return len(text) >= 2 and text[0] == " " and text[1:].isalpha()


def candidate_ids(lm: LoadedModel) -> torch.Tensor:
    """The readable replacement tokens' ids (C,) of `lm`'s tokenizer, ascending (CPU)."""
    tok = lm.tokenizer
    key = (type(tok).__name__, str(getattr(tok, "name_or_path", "")), len(tok), lm.vocab_size)
    return CANDIDATES.get_or_compute(key, lambda: _compute(tok, lm.vocab_size))


def _compute(tok, vocab_size: int) -> torch.Tensor:
    specials = special_ids(tok)
    ids = [i for i in range(vocab_size) if i not in specials and readable(token_text(tok, i))]
    return torch.tensor(ids, dtype=torch.long)  # (C,)
