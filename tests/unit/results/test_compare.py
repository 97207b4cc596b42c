"""A `Comparison` built by hand (no model): the units it pairs, Spearman's ρ worked out by hand,
the word level when the tokens differ, and its display — escaped, self-contained, the two
heatmaps one above the other under the agreement line."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

import whyword as ww
from tests.tolerances import SAME_ARITHMETIC, assert_close
from tests.unit.render.hand_built import tok, worded
from tests.unit.render.test_notebook_display import assert_self_contained
from whyword.render.text import method_label
from whyword.results.compare import comparison
from whyword.text.segments import Segment, Segmentation


def one_token_cabinet(signed, saliency) -> ww.Explanation:
    """The same text as `worded`, read as ` cabinet` ` is` ` <script>` by another tokenizer."""
    e = worded([0.0] * 4, [0.0] * 4)
    words = Segmentation(
        "word",
        (
            Segment("cabinet", 1, 8, (0,)),
            Segment("is", 9, 11, (1,)),
            Segment("<script>", 12, 20, (2,)),
        ),
    )
    return replace(
        e,
        model="other/<i>model</i>",
        tokens=(tok(70, " cabinet"), tok(3, " is"), tok(4, " <script>")),
        attributions=(
            ww.Attribution("input_x_gradient", tuple(signed), True),
            ww.Attribution("saliency", tuple(saliency), False),
        ),
        segmentations=(words,),
    )


def test_one_tokenizer_compares_tokens_and_rho_is_by_hand():
    a = worded([0.25, 0.5, -0.75, 0.125], [0.3, 0.4, 0.2, 0.1])
    b = worded([0.5, 0.25, -0.75, 0.125], [0.1, 0.4, 0.2, 0.3])
    c = comparison(a, b)
    assert c.level == "token" and [u.positions for u in c.units] == [(i, i) for i in range(4)]
    # input × gradient ranks 3 4 1 2 vs 4 3 1 2: Σd² = 2, ρ = 1 − 6·2 / (4·15) = 0.8
    assert_close(c.agreement("input_x_gradient").rho, 0.8, SAME_ARITHMETIC)
    # saliency ranks 3 4 2 1 vs 1 4 2 3: Σd² = 8, ρ = 1 − 48 / 60 = 0.2
    assert_close(c.agreement("saliency").rho, 0.2, SAME_ARITHMETIC)
    assert c.target_rank(0) == 1 and c.top(0)[0].token_id == 5
    assert_close(c.target_probability(1), 0.6, SAME_ARITHMETIC)


def test_other_tokens_compare_words_paired_by_characters():
    a = worded([0.25, 0.5, -0.75, 0.125], [0.3, 0.4, 0.2, 0.1])
    b = one_token_cabinet([0.1, 0.3, 0.2], [0.5, 0.2, 0.25])
    c = comparison(a, b)
    assert c.level == "word" and any("word by word" in n for n in c.notes)
    assert [(u.label, u.start, u.end, u.positions) for u in c.units] == [
        ("cabinet", 1, 8, (0, 0)),
        ("is", 9, 11, (1, 1)),
        ("<script>", 12, 20, (2, 2)),
    ]
    # A's words: cabinet 0.25 + 0.5, is −0.75, <script> 0.125 → ranks 3 1 2; B's 1 3 2: ρ = −1
    assert_close(c.scores("input_x_gradient", 0), (0.75, -0.75, 0.125), SAME_ARITHMETIC)
    assert_close(c.agreement("input_x_gradient").rho, -1.0, SAME_ARITHMETIC)
    # saliency: cabinet √(0.3² + 0.4²) = 0.5, is 0.2, <script> 0.1 → 3 2 1; B 3 1 2: ρ = 0.5
    assert_close(c.scores("saliency", 0), (0.5, 0.2, 0.1), SAME_ARITHMETIC)
    assert_close(c.agreement("saliency").rho, 0.5, SAME_ARITHMETIC)
    frame = c.to_dataframe()
    assert list(frame["word"]) == ["cabinet", "is", "<script>"]
    assert_close(frame["input_x_gradient_diff"].to_numpy(), [-0.65, 1.05, 0.075], SAME_ARITHMETIC)


def test_a_word_one_side_joins_is_left_out_and_specials_are_not_ranked():
    a = worded([0.25, 0.5, -0.75, 0.125], [0.3, 0.4, 0.2, 0.1])
    b = one_token_cabinet([0.1, 0.3, 0.2], [0.5, 0.2, 0.25])
    joined = Segmentation(  # "is <script>" as one word: a token straddling both, say
        "word", (Segment("cabinet", 1, 8, (0,)), Segment("is <script>", 9, 20, (1, 2)))
    )
    c = comparison(a, replace(b, segmentations=(joined,)))
    assert [u.label for u in c.units] == ["cabinet"] and "3 word span(s)" in c.notes[-1]
    assert math.isnan(c.agreement("saliency").rho)  # one word: no rank correlation
    special = replace(b, tokens=(tok(70, " cabinet"), tok(3, " is", special=True), b.tokens[2]))
    c = comparison(a, special)
    assert c.agreement("saliency").compared == (0, 2)


def test_the_display_is_escaped_with_the_agreement_above_two_heatmaps():
    a = worded([0.25, 0.5, -0.75, 0.125], [0.3, 0.4, 0.2, 0.1])
    c = comparison(a, one_token_cabinet([0.1, 0.3, 0.2], [0.5, 0.2, 0.25]))
    page = c._repr_html_()
    assert_self_contained(page)
    assert "<b>model</b>" not in page and "&lt;b&gt;model&lt;/b&gt;" in page
    assert "<i>model</i>" not in page and "&lt;script&gt;" in page
    spearman, first, second = (page.index(s) for s in ("Spearman ρ", "A: ", "B: "))
    assert spearman < first < second  # the agreement, then A above B
    assert "−1.00" in page or "-1.00" in page
    one = c.html(methods=["input_x_gradient"])  # a subset: the other method drawn nowhere
    assert method_label("input_x_gradient") in one and method_label("saliency") not in one
    assert method_label("saliency") in page
    with pytest.raises(ww.InputError, match="no option"):
        c.show(colour="red")
