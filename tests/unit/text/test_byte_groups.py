"""Byte-level pieces of one character shown as that character (whyword.text.tokens.byte_groups)."""

from __future__ import annotations

import math
import re

import pytest

from whyword.render import heatmap_html
from whyword.results.explanation import Attribution
from whyword.text.tokens import byte_groups, make_tokens

PIZZA = "I like 🍕 and 中文"


def _groups(tokenizer, text):
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    tokens = make_tokens(tokenizer, ids)
    return tokens, byte_groups(tokens)


def _check_partition(tokens, groups, text):
    assert [i for g in groups for i in g.tokens] == list(range(len(tokens)))
    assert "".join(g.label for g in groups).replace("␣", " ") == text
    assert not any("⟨" in g.label for g in groups)  # every byte piece found its character


def test_byte_pieces_group_into_characters_on_a_tiny_byte_level_tokenizer(tiny_gpt2):
    tokens, groups = _groups(tiny_gpt2.tokenizer, PIZZA)
    assert any("⟨" in t.label for t in tokens)  # the tiny BPE splits the emoji into bytes
    _check_partition(tokens, groups, PIZZA)
    pizza = next(g for g in groups if "🍕" in g.label)
    assert len(pizza.tokens) >= 2 and re.fullmatch(r"(␣?⟨[0-9a-f]+⟩)+", pizza.pieces)
    assert bytes.fromhex("".join(re.findall(r"⟨([0-9a-f]+)⟩", pizza.pieces))) == "🍕".encode()


def test_the_heatmap_shows_one_chip_per_character_with_summed_scores(tiny_gpt2):
    from tests.unit.render.hand_built import explanation, token_spans

    tokens, groups = _groups(tiny_gpt2.tokenizer, PIZZA)
    scores = tuple(0.1 * (i + 1) * (-1) ** i for i in range(len(tokens)))
    e = explanation(
        tokens,
        (
            Attribution("occlusion", scores, True),
            Attribution("saliency", tuple(abs(v) for v in scores), False),
        ),
    )
    signed, unsigned = (
        heatmap_html(e, methods=[m], numbers=True) for m in ("occlusion", "saliency")
    )
    spans = token_spans(signed)
    assert len(spans) == len(groups) < len(tokens)
    pizza = next(g for g in groups if "🍕" in g.label)
    chip = next(s for s in spans if "🍕" in s["text"])
    assert f"{len(pizza.tokens)} byte pieces: " in chip["title"]
    total = sum(scores[i] for i in pizza.tokens)
    norm = math.sqrt(sum(scores[i] ** 2 for i in pizza.tokens))
    assert f"score {total:+.4f}" in chip["title"]
    assert (
        f"score {norm:+.4f}" in next(s for s in token_spans(unsigned) if "🍕" in s["text"])["title"]
    )


@pytest.mark.slow
def test_byte_pieces_group_on_the_default_tokenizer():
    from whyword import load_model

    tokens, groups = _groups(load_model().tokenizer, PIZZA + " café 😀👍")
    assert any("⟨" in t.label for t in tokens)
    _check_partition(tokens, groups, PIZZA + " café 😀👍")
    assert any(len(g.tokens) > 1 for g in groups)
