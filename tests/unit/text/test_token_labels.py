"""Token labels are readable: no raw byte-level or WordPiece markers, spaces and newlines shown."""

from __future__ import annotations

import pytest

from whyword.models.encoding import encode
from whyword.text.tokens import make_tokens


@pytest.mark.slow
def test_tokens_are_readable_on_default_model(smol):
    labels = [t.label for t in make_tokens(smol.tokenizer, encode(smol, "Hello world\nagain").ids)]
    assert labels == ["Hello", "␣world", "↵", "again"]


def test_tokens_are_readable(tiny_gpt2, tiny_bert):
    gpt2 = [
        t.label for t in make_tokens(tiny_gpt2.tokenizer, encode(tiny_gpt2, "The capital\nis").ids)
    ]
    assert gpt2 == ["The", "␣capital", "↵", "is"]  # no raw Ġ / Ċ
    bert = [
        t.label for t in make_tokens(tiny_bert.tokenizer, encode(tiny_bert, "walking [MASK]").ids)
    ]
    assert bert == ["[CLS]", "␣walk", "ing", "[MASK]", "[SEP]"]  # no raw ##
