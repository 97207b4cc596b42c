"""The heatmap: colour scales (mirrored, readable, symmetric around zero, normalised), special and
held tokens, unsigned rows, the chips' numbers, the infill gap and the legend."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.unit.render.hand_built import (
    background,
    explanation,
    ig,
    parse,
    simple,
    text_colour_of,
    tok,
    token_spans,
)
from whyword.render import (
    colours,
    export_html,
    heatmap_html,
    method_matrix_figure,
    rank_agreement,
    trust_html,
)
from whyword.results.explanation import Attribution

# ---------------------------------------------------------------- colour scales


@pytest.mark.parametrize("t", [0.1, 0.25, 0.5, 0.75, 1.0])
def test_diverging_scale_is_mirrored(t):
    red, blue = colours.diverging(t), colours.diverging(-t)
    assert red[0] > red[2] and blue[2] > blue[0]  # red supports, blue speaks against
    assert abs(colours.luminance(red) - colours.luminance(blue)) < 0.005  # equally strong
    assert colours.diverging(0.0) == colours.NEUTRAL


@pytest.mark.parametrize("ramp", ["diverging+", "diverging-", "sequential"])
def test_text_stays_readable_on_every_cell(ramp):
    for k in range(21):
        t = k / 20
        rgb = {
            "diverging+": colours.diverging(t),
            "diverging-": colours.diverging(-t),
            "sequential": colours.sequential(t),
        }[ramp]
        text = (
            colours.DARK_RGB if colours.text_colour(rgb) == colours.DARK_TEXT else colours.LIGHT_RGB
        )
        assert colours.contrast(rgb, text) >= 4.5, (ramp, t, rgb)
    assert colours.text_colour(colours.diverging(1.0)) == colours.LIGHT_TEXT
    assert colours.text_colour(colours.diverging(0.1)) == colours.DARK_TEXT


def test_heatmap_scale_is_symmetric_around_zero():
    e = simple({"input_x_gradient": [1.0, 0.5, -0.5, -0.25, 0.0]})
    spans = token_spans(heatmap_html(e))
    bg = [background(s) for s in spans]
    hexed = colours.hex_colour
    assert bg[0] == hexed(colours.RED)
    assert bg[1] == hexed(colours.diverging(0.5)) and bg[2] == hexed(colours.diverging(-0.5))
    assert bg[3] == hexed(colours.diverging(-0.25))  # not stretched to full blue (no min-max)
    assert bg[4] == hexed(colours.NEUTRAL)
    assert text_colour_of(spans[0]) == colours.LIGHT_TEXT
    assert text_colour_of(spans[4]) == colours.DARK_TEXT
    assert 'title="␣w1 · id 1 · position 1 · score +0.5000"' in heatmap_html(e)
    assert "score -0.2500" in spans[3]["title"]


def test_normalise_modes():
    e = simple({"input_x_gradient": [2.0, 1.0], "occlusion": [1.0, 0.5]})
    hexed = colours.hex_colour

    def row(normalise, r):
        return [background(s) for s in token_spans(heatmap_html(e, normalise=normalise))][
            2 * r : 2 * r + 2
        ]

    assert row("per_method", 1) == [hexed(colours.diverging(1.0)), hexed(colours.diverging(0.5))]
    assert row("shared", 1) == [hexed(colours.diverging(0.5)), hexed(colours.diverging(0.25))]
    assert row("shared", 0) == [hexed(colours.diverging(1.0)), hexed(colours.diverging(0.5))]
    assert row("none", 0) == [hexed(colours.diverging(1.0)), hexed(colours.diverging(1.0))]
    assert row("none", 1) == [hexed(colours.diverging(1.0)), hexed(colours.diverging(0.5))]
    with pytest.raises(ValueError, match="normalise"):
        heatmap_html(e, normalise="max")


def test_shared_scale_leaves_unsigned_rows_alone():
    tokens = (tok(0, " a"), tok(1, " b"))
    e = explanation(
        tokens,
        (Attribution("saliency", (10.0, 5.0), False), Attribution("occlusion", (1.0, -0.5), True)),
    )
    bg = [background(s) for s in token_spans(heatmap_html(e, normalise="shared"))]
    assert bg[:2] == [
        colours.hex_colour(colours.sequential(1.0)),
        colours.hex_colour(colours.sequential(0.5)),
    ]
    assert bg[2:] == [
        colours.hex_colour(colours.diverging(1.0)),
        colours.hex_colour(colours.diverging(-0.5)),
    ]


def test_special_tokens_are_greyed_and_out_of_scale():
    tokens = (tok(0, "[CLS]", special=True), tok(1, " a"), tok(2, " b"))
    e = explanation(tokens, (Attribution("input_x_gradient", (100.0, 1.0, -0.5), True),))
    spans = token_spans(heatmap_html(e))
    assert "dashed" in spans[0]["style"] and "background:transparent" in spans[0]["style"]
    assert "left out of the colour scale" in spans[0]["title"]
    assert background(spans[1]) == colours.hex_colour(colours.diverging(1.0))
    spans = token_spans(heatmap_html(e, include_special=True))
    assert background(spans[0]) == colours.hex_colour(colours.diverging(1.0))
    assert background(spans[1]) == colours.hex_colour(colours.diverging(0.01))


def test_unsigned_row_is_single_hue_and_says_so():
    e = simple({"saliency": [0.0, 0.5, 1.0]}, signed=False)
    markup = heatmap_html(e)
    assert "unsigned: magnitude only" in markup
    bg = [background(s) for s in token_spans(markup)]
    assert bg == [colours.hex_colour(colours.sequential(t)) for t in (0.0, 0.5, 1.0)]
    assert all(colours.hex_colour(colours.RED) != b for b in bg)


def test_all_zero_row_and_held_zero_are_neutral():
    tokens = (tok(0, "The"), tok(1, " cat"), tok(2, " sat"))
    e = explanation(
        tokens,
        (ig([0.0, 0.5, -0.25]), Attribution("occlusion", (0.0, 0.0, 0.0), True)),
        held=(0,),
    )
    markup = heatmap_html(e)
    spans = token_spans(markup)
    neutral = colours.hex_colour(colours.NEUTRAL)
    assert background(spans[0]) == neutral and "held at its real embedding" in spans[0]["title"]
    assert [background(s) for s in spans[3:]] == [neutral] * 3
    assert "all scores are 0" in markup


def test_the_legend_is_plain_and_the_jargon_one_click_away():
    e = simple({"occlusion": [1.0, -1.0]})
    markup = heatmap_html(e)
    legend, details = markup.split("<details", 1)
    assert "Red</b> words make <b>␣Paris</b> more likely" in legend
    assert "blue</b> words make it less likely" in legend
    assert "Objective" not in legend and "full colour" not in legend.lower()
    assert "Objective F =" in details and "Full colour at" in details


def test_numbers_on_the_chips_are_the_scores():
    e = simple({"occlusion": [0.25, -1.5]})
    assert ">+0.2500</span>" not in heatmap_html(e)
    shown = heatmap_html(e, numbers=True)
    assert ">␣w0<span" in shown and ">+0.2500</span>" in shown and ">-1.5000</span>" in shown


def test_a_held_token_is_marked_on_its_chip():
    tokens = (tok(0, "The"), tok(1, " cat"), tok(2, " sat"))
    e = explanation(tokens, (ig([0.0, 0.5, -0.25]),), held=(0,))
    markup = heatmap_html(e)
    chip_end = markup.index(">The</span>") + len(">The</span>")
    assert markup[chip_end:].startswith("<sup") and "first token" in markup[chip_end:][:400]
    assert "⚓: kept fixed" in markup.split("<details", 1)[0]


def test_one_token_explanation_renders_everywhere():
    e = explanation((tok(0, "Hi"),), (ig([0.7]), Attribution("saliency", (0.2,), False)))
    spans = token_spans(heatmap_html(e))
    assert len(spans) == 2 and background(spans[0]) == colours.hex_colour(colours.diverging(1.0))
    assert "Integrated gradients" in trust_html(e)
    fig = method_matrix_figure(e)
    assert [list(t.z) for t in fig.data] == [[[1.0]], [[1.0]]]
    assert rank_agreement(e) == {}
    assert "<!DOCTYPE html>" in export_html(e)


def test_infill_gap_is_marked_between_the_right_tokens():
    tokens = (tok(0, "The"), tok(1, " cat"), tok(2, " on"), tok(3, " the"))
    e = explanation(
        tokens,
        (Attribution("input_x_gradient", (0.1, 0.2, 0.3, 0.4), True),),
        mode="infill",
        gap=2,
    )
    texts = [s["text"] for s in parse(heatmap_html(e)).spans if s.get("title")]
    assert texts == ["The", "␣cat", "⟨␣Paris⟩", "␣on", "␣the"]
    plain = replace(e, mode="next_token")
    assert "⟨␣Paris⟩" not in heatmap_html(plain)


def test_legend_names_colours_objective_target_and_foil():
    e = simple({"occlusion": [1.0, -1.0]}, foil=" London")
    markup = heatmap_html(e)
    assert "words make <b>␣Paris</b> more likely than <b>␣London</b>" in markup
    assert "blue</b> words favour <b>␣London</b>" in markup
    assert "␣ marks a space" in markup and markup.count("␣ marks") == 1  # explained once
    assert "F = log p(target) − log p(foil) = -0.5100" in markup
    with pytest.raises(KeyError, match="saliency"):
        heatmap_html(e, methods=["saliency"])
    assert len(token_spans(heatmap_html(e, methods=["occlusion"]))) == 2
