"""Rendering tests on hand-built Explanations: no model is loaded."""

from __future__ import annotations

import ast
import io
import json
import math
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from whyword._version import __version__
from whyword.render import (
    colours,
    export_csv,
    export_html,
    export_json,
    heatmap_html,
    method_matrix_figure,
    rank_agreement,
    spearman,
    topk_figure,
    trust_html,
)
from whyword.results.explanation import Attribution, Candidate, Explanation, Prediction
from whyword.results.params import IGParams
from whyword.text.tokens import Token, visible

HOSTILE = (
    "<script>alert(1)</script>",
    " <img src=x onerror=alert(1)>",
    "&amp;",
    "\" onmouseover='alert(1)' x=\"",
    " 😀",
    " שלום",
    "a\x00b\x07c",
)
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "body", "h1", "div", "span", "b", "br", "p",
    "table", "tr", "th", "td", "ul", "li", "details", "summary", "sup",
}  # fmt: skip
ALLOWED_ATTRS = {"style", "title", "dir", "role", "lang", "charset", "name", "content"}


# ---------------------------------------------------------------- fixtures


def tok(i: int, text: str, special: bool = False, attributed: bool = True) -> Token:
    return Token(id=i, text=text, label=visible(text), special=special, attributed=attributed)


def cand(token_id: int, text: str, p: float) -> Candidate:
    return Candidate(token_id=token_id, text=text, label=visible(text), log_prob=math.log(p))


def explanation(
    tokens: tuple[Token, ...],
    attributions: tuple[Attribution, ...],
    *,
    mode: str = "next_token",
    foil: str | None = None,
    params: dict | None = None,
    notes: tuple[str, ...] = (),
    held: tuple[int, ...] = (),
    gap: int | None = None,
    text: str = "The capital of France is",
    target: str = " Paris",
) -> Explanation:
    preds = (
        Prediction(
            (cand(5, " Paris", 0.6), cand(6, " London", 0.3), cand(7, "<script>x</script>", 0.1)),
            scoring="infill" if mode == "infill" else "next_token",
            mask=0 if mode == "infill" else None,
        ),
    )
    return Explanation(
        text=text,
        model="tiny/<b>model</b>",
        kind="causal",
        mode=mode,
        tokens=tokens,
        predictions=preds,
        target=target,
        target_ids=(5,),
        foil=foil,
        foil_ids=(6,) if foil is not None else None,
        objective="contrastive" if foil is not None else "log_prob",
        formula="log p(target) − log p(foil)" if foil is not None else "log p(target)",
        value=-0.51,
        target_log_prob=math.log(0.6),
        attributions=attributions,
        params=params or {},
        timings={"predictions": 0.01, "total": 0.5},
        notes=notes,
        held=held,
        gap=gap,
    )


def ig(scores, relative_error=0.01, **extra) -> Attribution:
    return Attribution(
        method="integrated_gradients",
        scores=tuple(scores),
        signed=True,
        params=IGParams(
            baseline="zero",
            hold_first=True,
            n_steps=32,
            adaptive=True,
            tolerance=0.05,
            max_steps=256,
            nodes_per_interval=4,
            grading=3.0,
        ),
        error_bound=0.02,
        intervals=4,
        seconds=1.25,
        convergence_delta=0.003,
        relative_error=relative_error,
        f_input=-0.51,
        f_baseline=-2.01,
        steps=64,
        **extra,
    )


@pytest.fixture
def hostile() -> Explanation:
    """Every kind of awkward token, a special token at each end, three signed methods and one
    unsigned, a contrastive foil, hostile user strings everywhere."""
    tokens = (
        tok(0, "<|endoftext|>", special=True),
        *(tok(10 + i, t) for i, t in enumerate(HOSTILE)),
        tok(99, "[SEP]<script>", special=True),
    )
    n = len(tokens)
    base = [0.0, 0.4, -0.2, 0.1, -0.05, 0.3, 0.0, -0.4, 7.0]
    assert len(base) == n
    return explanation(
        tokens,
        (
            Attribution("saliency", tuple(abs(s) + 0.01 for s in base), False, seconds=0.2),
            ig(base),
            Attribution("input_x_gradient", tuple(s * 2 for s in base), True, seconds=0.1),
            Attribution("occlusion", tuple(reversed(base)), True, seconds=0.3, steps=n),
        ),
        foil=" <script>alert('foil')</script>",
        target=" <img src=x onerror=alert(2)>",
        text="<script>alert('text')</script> & \"quotes\"",
        held=(0, n - 1),
        notes=("A note with <script>alert('note')</script>",),
    )


def simple(scores_by_method: dict[str, list[float]], signed=True, **kw) -> Explanation:
    n = len(next(iter(scores_by_method.values())))
    tokens = tuple(tok(i, f" w{i}") for i in range(n))
    attrs = tuple(Attribution(m, tuple(s), signed) for m, s in scores_by_method.items())
    return explanation(tokens, attrs, **kw)


# ---------------------------------------------------------------- helpers


class Collector(HTMLParser):
    """Tags, attributes, text and the (style, title, text) of every token span."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.spans: list[dict[str, str]] = []
        self._open: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((k, v or "") for k, v in attrs)
        if tag == "span":
            self._open = {**dict(attrs), "text": ""}
            self.spans.append(self._open)

    def handle_endtag(self, tag):
        if tag == "span":
            self._open = None

    def handle_data(self, data):
        self.text.append(data)
        if self._open is not None:
            self._open["text"] += data


def parse(markup: str) -> Collector:
    c = Collector()
    c.feed(markup)
    c.close()
    return c


def token_spans(markup: str) -> list[dict[str, str]]:
    """Spans that carry a token (they have a title with its id)."""
    return [s for s in parse(markup).spans if " · id " in s.get("title", "")]


def background(span: dict[str, str]) -> str:
    return re.search(r"background:([^;]+);", span["style"]).group(1)


def text_colour_of(span: dict[str, str]) -> str:
    return re.findall(r"(?<![-\w])color:([^;]+);", span["style"])[-1]


def all_strings(obj) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in all_strings(v)]
    if isinstance(obj, list | tuple):
        return [s for v in obj for s in all_strings(v)]
    return []


def assert_safe_markup(markup: str) -> None:
    low = markup.lower()
    assert "<script" not in low and "<img" not in low and "\x00" not in markup
    doc = parse(markup)
    assert set(doc.tags) <= ALLOWED_TAGS, set(doc.tags) - ALLOWED_TAGS
    assert {k for k, _ in doc.attrs} <= ALLOWED_ATTRS, {k for k, _ in doc.attrs}


# ---------------------------------------------------------------- escaping


def test_heatmap_escapes_every_token_and_string(hostile):
    markup = heatmap_html(hostile, include_special=True)
    assert_safe_markup(markup)
    row = [s["text"] for s in token_spans(markup)][: len(hostile.tokens)]
    assert row[0] == "<|endoftext|>" and row[-1] == "[SEP]<script>"
    assert row[1] == "<script>alert(1)</script>"  # shown as text, not run
    assert row[2] == "␣<img␣src=x␣onerror=alert(1)>"
    assert row[3] == "&amp;"  # the literal five characters
    assert row[4] == "\"␣onmouseover='alert(1)'␣x=\""
    assert row[5] == "␣😀" and row[6] == "␣שלום"
    assert row[7] == "a\\u0000b\\u0007c"
    assert "&lt;img src=x onerror=alert(2)&gt;" not in markup  # labels use ␣, escaped
    assert "␣&lt;img␣src=x␣onerror=alert(2)&gt;" in markup
    assert "&lt;script&gt;alert(&#x27;foil&#x27;)&lt;/script&gt;" in markup


def test_heatmap_title_attribute_cannot_be_broken_out_of(hostile):
    spans = token_spans(heatmap_html(hostile))
    quote = spans[4]
    assert set(quote) == {"style", "title", "text"}  # no onmouseover attribute leaked
    assert quote["title"].startswith("\"␣onmouseover='alert(1)'␣x=\" · id 13")


def test_trust_and_export_are_escaped(hostile):
    assert_safe_markup(trust_html(hostile))
    page = export_html(hostile)
    assert_safe_markup(page)
    assert "&lt;script&gt;alert(&#x27;note&#x27;)&lt;/script&gt;" in trust_html(hostile)
    assert "<title>WhyWord: &lt;script&gt;alert(&#x27;text&#x27;)" in page


def test_export_html_is_self_contained(hostile):
    page = export_html(hostile)
    assert page.startswith("<!DOCTYPE html>")
    assert f'<meta name="generator" content="WhyWord {__version__}">' in page
    assert '<meta charset="utf-8">' in page
    for banned in (
        "<script",
        "<link",
        "<iframe",
        "src=",
        "href=",
        "http://",
        "https://",
        "@import",
    ):
        assert banned not in page.replace("src=x", "")  # the escaped token text is fine
    assert "tiny/&lt;b&gt;model&lt;/b&gt;" in page
    assert page.count("<table") >= 3  # header, trust, predictions


def test_figures_escape_labels_plotly_would_render(hostile):
    figs = [
        topk_figure(hostile.predictions[0], 5, 6, title="<img src=x onerror=alert(3)>"),
        method_matrix_figure(hostile, include_special=True),
    ]
    for fig in figs:
        strings = all_strings(fig.to_plotly_json())
        joined = "\n".join(strings).lower()
        assert "<script" not in joined and "<img" not in joined and "\x00" not in joined
    bar = figs[0].data[0]
    assert list(figs[0].layout.yaxis.ticktext)[2] == "&lt;script&gt;x&lt;/script&gt;"
    assert figs[0].layout.title.text == "&lt;img src=x onerror=alert(3)&gt;"
    assert bar.hovertext[2] == "&lt;script&gt;x&lt;/script&gt;"
    ticks = list(figs[1].layout.xaxis.ticktext)
    assert ticks[1] == "&lt;script&gt;alert(1)&lt;/script&gt;\u200e<sub>1</sub>"
    # once, for plotly: it decodes &amp; &lt; &gt; but shows &quot; and &#x27; literally
    assert ticks[3] == "&amp;amp;\u200e<sub>3</sub>"
    assert ticks[4].startswith("\"␣onmouseover='alert(1)'␣x=\"\u200e")
    assert "&quot;" not in joined and "&#x27;" not in joined


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


# ---------------------------------------------------------------- top-k figure


def test_topk_bars_colours_ids_and_order(hostile):
    pred = hostile.predictions[0]
    fig = topk_figure(pred, target_id=6, foil_id=7)
    bar = fig.data[0]
    assert list(bar.customdata) == [5, 6, 7]
    assert list(bar.marker.color) == [
        colours.OTHER_COLOUR,
        colours.TARGET_COLOUR,
        colours.FOIL_COLOUR,
    ]
    assert list(bar.x) == pytest.approx([0.6, 0.3, 0.1])
    assert list(fig.layout.yaxis.ticktext)[:2] == ["␣Paris", "␣London"]
    assert fig.layout.yaxis.autorange == "reversed"  # highest on top
    assert list(bar.text) == ["60.0 %", "30.0 % · target", "10.0 % · foil"]
    assert "%{customdata}" in bar.hovertemplate and "%{x:.2%}" in bar.hovertemplate
    assert fig.layout.paper_bgcolor == "rgba(0,0,0,0)"
    assert fig.layout.font.size >= 18
    assert topk_figure(pred).data[0].marker.color == (colours.OTHER_COLOUR,) * 3


def test_topk_ticks_never_pass_100_percent():
    sure = Prediction((cand(1, " a", 0.95), cand(2, " b", 0.05)), "next_token")
    fig = topk_figure(sure)
    assert fig.layout.xaxis.range[1] > 1.0  # room for "95.0 %" beside the bar
    assert list(fig.layout.xaxis.tickvals) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    unsure = Prediction((cand(1, " a", 0.03), cand(2, " b", 0.02)), "next_token")
    assert list(topk_figure(unsure).layout.xaxis.tickvals) == [0, 0.01, 0.02, 0.03]


def test_topk_height_grows_with_k():
    few = Prediction((cand(1, " a", 0.9),), "next_token")
    many = Prediction(tuple(cand(i, f" t{i}", 0.5 / (i + 1)) for i in range(10)), "next_token")
    assert topk_figure(many).layout.height - topk_figure(few).layout.height == 9 * 46


# ---------------------------------------------------------------- method matrix


def test_method_matrix_rows_are_normalised_and_centred(hostile):
    fig = method_matrix_figure(hostile)
    signed, unsigned = fig.data
    assert signed.zmid == 0 and signed.zmin == -1 and signed.zmax == 1
    ixg = list(signed.z[1])  # rows: IG, input×gradient, occlusion (signed first)
    assert math.isnan(ixg[0]) and math.isnan(ixg[-1])  # special tokens left out
    assert ixg[1:-1] == pytest.approx([0.8 / 0.8, -0.4 / 0.8, 0.2 / 0.8, -0.1 / 0.8, 0.75, 0, -1])
    assert unsigned.zmin == 0 and list(fig.layout.yaxis.ticktext)[-1].endswith("(unsigned)")
    assert "+0.8000" in signed.text[1][1]  # hover: the exact raw score
    ticks = list(fig.layout.xaxis.ticktext)
    assert len(set(ticks)) == len(ticks)
    assert "max |score|" in fig.layout.title.text


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


# ---------------------------------------------------------------- exports


def test_json_round_trip(hostile):
    text = export_json(hostile)
    assert text.startswith(f'{{\n  "whyword_version": "{__version__}"')  # pretty
    assert Explanation.from_json(text) == hostile


def test_csv_round_trip(hostile):
    text = export_csv(hostile)
    assert text.splitlines()[0] == f"# WhyWord {__version__}"
    # round_trip: pandas < 3 reads floats with a faster, inexact parser by default
    back = pd.read_csv(
        io.StringIO(text), keep_default_na=False, skiprows=1, float_precision="round_trip"
    )
    frame = hostile.to_dataframe()
    context = ["model", "target", "foil", "objective", "objective_value", "parameters"]
    assert list(back.columns) == [*frame.columns, *context]
    assert set(back["target"]) == {hostile.target}  # the same on every row
    assert set(back["foil"]) == {hostile.foil}
    assert set(back["objective"]) == {hostile.formula}
    assert float(back["objective_value"][0]) == hostile.value
    assert json.loads(back["parameters"][0]) == json.loads(json.dumps(hostile.params, default=str))
    assert list(back["token"]) == [t.label for t in hostile.tokens]
    assert list(back["token_id"]) == [t.id for t in hostile.tokens]
    assert list(back["special"]) == [t.special for t in hostile.tokens]
    for a in hostile.attributions:
        assert list(back[a.method]) == list(a.scores)  # exact: no rounding on export


def test_csv_defuses_spreadsheet_formulas(hostile):
    from dataclasses import replace

    from whyword.text.tokens import Token

    tokens = (Token(1, "=HYPERLINK(1)", "=HYPERLINK(1)"), *hostile.tokens[1:])
    back = pd.read_csv(
        io.StringIO(export_csv(replace(hostile, tokens=tokens))), keep_default_na=False, skiprows=1
    )
    assert back["token"][0] == "'=HYPERLINK(1)"


# ---------------------------------------------------------------- layering


def test_render_imports_no_models_torch_or_gradio():
    banned = (
        "torch",
        "captum",
        "gradio",
        "transformers",
        "whyword.models.load",
        "whyword.tasks.explain",
    )
    root = Path(__file__).resolve().parents[3] / "whyword" / "render"
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not any(name == b or name.startswith(b + ".") for b in banned), (path, name)


def test_agreement_over_few_tokens_says_how_little_it_means():
    few = simple({"occlusion": [1.0, 0.5, -0.2, 0.1], "input_x_gradient": [0.9, 0.4, -0.1, 0.3]})
    assert "by chance" in trust_html(few) and "only 4 tokens" in trust_html(few)
    scores = [float(i) for i in range(10)]
    many = simple({"occlusion": scores, "input_x_gradient": scores})
    assert "by chance" not in trust_html(many)
    assert "overflow-x:auto" in trust_html(many)  # scrolls in a narrow column, never clipped


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
