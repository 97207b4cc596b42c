"""Rendering keeps hostile text as text: every token and string escaped in the heatmap, the trust
panel, the exported page and the figures; exports that round-trip and defuse spreadsheet formulas."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pandas as pd

from tests.unit.render.hand_built import all_strings, assert_safe_markup, token_spans
from whyword._version import __version__
from whyword.render import (
    export_csv,
    export_html,
    export_json,
    heatmap_html,
    method_matrix_figure,
    topk_figure,
    trust_html,
)
from whyword.results.explanation import Explanation
from whyword.text.tokens import Token

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

    tokens = (Token(1, "=HYPERLINK(1)", "=HYPERLINK(1)"), *hostile.tokens[1:])
    back = pd.read_csv(
        io.StringIO(export_csv(replace(hostile, tokens=tokens))), keep_default_na=False, skiprows=1
    )
    assert back["token"][0] == "'=HYPERLINK(1)"
