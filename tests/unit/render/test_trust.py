"""The trust panel: IG's completeness warnings, notes and held tokens, rank agreement between
methods (Spearman), and the faithfulness curves' precision."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from tests.unit.render.hand_built import explanation, ig, simple, tok
from whyword.render import rank_agreement, spearman, trust_html
from whyword.results.explanation import Attribution

# ---------------------------------------------------------------- trust panel


def test_trust_warns_above_five_percent():
    tokens = (tok(0, " a"), tok(1, " b"))
    bad = explanation(tokens, (ig([1.0, 0.4], relative_error=0.0731),))
    good = explanation(tokens, (ig([1.0, 0.5], relative_error=0.012),))
    bad_html, good_html = trust_html(bad), trust_html(good)
    assert 'role="alert"' in bad_html and "7.31 %" in bad_html and "more steps" in bad_html
    assert "lower tolerance" in bad_html
    assert 'role="alert"' not in good_html and "1.20 %" in good_html
    for markup in (bad_html, good_html):
        assert "-0.5100" in markup and "-2.0100" in markup and "1.5000" in markup  # F values
        assert "64 (cap 256) in 4 intervals" in markup
        assert "all-zero embedding" in markup
        assert "1.25 s" in markup


def test_trust_undefined_relative_error_warns():
    e = explanation((tok(0, " a"),), (ig([0.0], relative_error=None),))
    assert "undefined" in trust_html(e) and 'role="alert"' in trust_html(e)


def test_trust_shows_notes_and_held_tokens(hostile):
    markup = trust_html(hostile)
    assert "A note with &lt;script&gt;" in markup
    assert (
        "held at the real embedding (IG score 0): &lt;|endoftext|&gt; [SEP]&lt;script&gt;" in markup
    )
    for label in ("Saliency (gradient norm)", "Input × gradient", "Occlusion (leave one out)"):
        assert label in markup


def test_trust_agreement_table_only_with_two_methods(hostile):
    assert "Spearman" in trust_html(hostile)
    single = replace(hostile, attributions=hostile.attributions[1:2])
    assert "Spearman" not in trust_html(single)


# ---------------------------------------------------------------- rank agreement


def test_spearman_known_values():
    assert spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(8 / math.sqrt(95))
    assert spearman([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)
    assert spearman([0.1, 0.5, 0.2], [1, 100, 3]) == pytest.approx(1.0)  # ranks, not values
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))
    assert math.isnan(spearman([1], [2]))


def test_rank_agreement_pairs_signed_methods_and_skips_special_tokens():
    tokens = (tok(0, "[CLS]", special=True), *(tok(i, f" w{i}") for i in range(1, 5)))
    e = explanation(
        tokens,
        (
            Attribution("saliency", (9.0, 1.0, 2.0, 3.0, 4.0), False),
            Attribution("input_x_gradient", (-9.0, 1.0, 2.0, 3.0, 4.0), True),
            Attribution("occlusion", (9.0, 4.0, 3.0, 2.0, 1.0), True),
            Attribution("smoothgrad", (0.0, 1.0, 3.0, 2.0, 4.0), True),
        ),
    )
    got = rank_agreement(e)
    assert set(got) == {
        ("input_x_gradient", "occlusion"),
        ("input_x_gradient", "smoothgrad"),
        ("occlusion", "smoothgrad"),
    }
    assert got[("input_x_gradient", "occlusion")] == pytest.approx(-1.0)  # [CLS] would add +
    assert got[("input_x_gradient", "smoothgrad")] == pytest.approx(0.8)
    assert got[("occlusion", "smoothgrad")] == pytest.approx(-0.8)


def test_rank_agreement_ignores_tokens_ig_held_fixed():
    tokens = tuple(tok(i, f" w{i}") for i in range(4))
    e = explanation(
        tokens,
        (ig([0.0, 1.0, 2.0, 3.0]), Attribution("occlusion", (5.0, 1.0, 2.0, 3.0), True)),
        held=(0,),
    )
    assert rank_agreement(e)[("integrated_gradients", "occlusion")] == pytest.approx(1.0)


def test_agreement_over_few_tokens_says_how_little_it_means():
    few = simple({"occlusion": [1.0, 0.5, -0.2, 0.1], "input_x_gradient": [0.9, 0.4, -0.1, 0.3]})
    assert "by chance" in trust_html(few) and "only 4 tokens" in trust_html(few)
    scores = [float(i) for i in range(10)]
    many = simple({"occlusion": scores, "input_x_gradient": scores})
    assert "by chance" not in trust_html(many)
    assert "overflow-x:auto" in trust_html(many)  # scrolls in a narrow column, never clipped


# ---------------------------------------------------------------- faithfulness curves


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_trust_says_when_the_curves_ran_in_bf16(precision):
    from whyword.runtime.options import CURVE_BOUND

    curves = dict(
        deletion=0.3,
        insertion=0.7,
        deletion_curve=(1.0, 0.2, 0.0),
        insertion_curve=(0.0, 0.8, 1.0),
        random_deletion=0.5,
        random_insertion=0.5,
        curve_precision=precision,
    )
    a = Attribution("occlusion", (0.0, 1.0, 0.5), True, **curves)
    markup = trust_html(explanation((tok(0, "a"), tok(1, " b"), tok(2, " c")), (a,)))
    assert "Faithfulness" in markup
    said = f"computed in bf16, which moves each area by at most {CURVE_BOUND}" in markup
    assert said == (precision == "bf16")
