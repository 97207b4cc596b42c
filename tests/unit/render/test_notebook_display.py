"""Results in a notebook: each displayable result's `_repr_html_` is self-contained, escaped and
complete; `show` options change what is drawn (word level merges sub-word tokens with the
segment maths, a methods subset drops the others); the display needs neither gradio nor plotly
(tests/integration/test_layering.py)."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import pytest

import whyword as ww
from tests.unit.render.hand_built import (
    ALLOWED_ATTRS,
    ALLOWED_TAGS,
    HOSTILE,
    evidence_result,
    matrix,
    parse,
    simple,
    tok,
    worded,
)
from whyword.render.text import esc, fmt_score
from whyword.results.display import DISPLAYS
from whyword.text.segments import Segment, Segmentation

NAN = float("nan")
TAGS = ALLOWED_TAGS | {"h4", "thead", "tbody"}  # structure only: nothing that runs or fetches


def assert_self_contained(markup: str) -> None:
    """No script, stylesheet, image or link: only layout tags and inline styles that fetch
    nothing (a hostile `<img src=…>` may only appear as escaped text)."""
    doc = parse(markup)
    assert set(doc.tags) <= TAGS, set(doc.tags) - TAGS
    assert {k for k, _ in doc.attrs} <= ALLOWED_ATTRS, {k for k, _ in doc.attrs}
    styles = " ".join(v.lower() for k, v in doc.attrs if k == "style")
    assert "url(" not in styles and "@import" not in styles and "expression(" not in styles
    assert "<script" not in markup.lower() and "<img" not in markup.lower()


def chips(markup: str) -> list[dict[str, str]]:
    """Every chip (a span with a title) in order: text as shown, title decoded."""
    return [s for s in parse(markup).spans if s.get("title")]


def test_every_result_kind_registers_its_renderer_on_import_whyword():
    kinds = {
        c.display_as
        for c in (ww.Explanation, ww.AttributionMatrix, ww.Generation, ww.EvidenceResult)
    }
    assert kinds | {ww.LayerLens.display_as} <= set(DISPLAYS)


def test_an_explanation_shows_every_token_escaped_the_target_and_the_methods():
    e = worded([0.25, 0.5, -0.75, 0.125], [0.3, 0.4, 0.2, 0.1])
    page = e._repr_html_()
    assert_self_contained(page)
    assert "<script>" not in page and esc(" <script>".replace(" ", "␣")) in page
    shown = [s["text"] for s in chips(page)]
    assert shown == [t.label for t in e.tokens] * 2  # two methods, every token in each row
    assert "␣Paris" in page and "Input × gradient" in page and "Saliency" in page
    assert f"{100 * e.target_probability:.2f} %" in page


def test_hostile_labels_are_escaped_where_they_land():
    e = simple({"input_x_gradient": [0.1] * len(HOSTILE)})
    hostile = replace(e, tokens=tuple(tok(i, h) for i, h in enumerate(HOSTILE)))
    page = hostile._repr_html_()
    assert_self_contained(page)
    assert [c["text"] for c in chips(page)] == [t.label for t in hostile.tokens]
    for t in hostile.tokens:
        assert esc(t.label) in page


def test_word_level_merges_sub_word_tokens_with_the_segment_rules():
    """` cab` + `inet` are one word: signed scores summed, saliency as the L2 norm."""
    e = worded([0.25, 0.5, -0.75, 0.125], [0.3, 0.4, 0.2, 0.1])
    words = chips(e.show(level="word"))
    assert [s["text"] for s in words] == ["cabinet", "is", "<script>"] * 2
    assert f"score {fmt_score(0.25 + 0.5)}" in words[0]["title"]  # input × gradient: the sum
    assert f"score {fmt_score(math.hypot(0.3, 0.4))}" in words[3]["title"]  # saliency: 0.5
    assert "cab" not in [s["text"] for s in words]


def test_a_methods_subset_drops_the_other_methods():
    e = worded([0.25, 0.5, -0.75, 0.125], [0.3, 0.4, 0.2, 0.1])
    page = e.show(methods=["saliency"])
    assert "Saliency" in page and "Input × gradient" not in page
    assert len(chips(page)) == len(e.tokens)
    assert e.show(methods="saliency") == page  # one name is one method


def test_show_says_in_one_sentence_what_it_cannot_do():
    e = worded([0.25, 0.5, -0.75, 0.125], [0.3, 0.4, 0.2, 0.1])
    with pytest.raises(ww.InputError, match="no option 'levle'; it takes: level, methods"):
        e.show(levle="word")
    with pytest.raises(ww.InputError, match="Not in this result: occlusion; it has"):
        e.show(methods=["occlusion"])
    with pytest.raises(ww.InputError, match="no 'sentence' level; it has: token, word"):
        e.show(level="sentence")


def test_options_add_the_prediction_table_and_the_trust_panel():
    e = worded([0.25, 0.5, -0.75, 0.125], [0.3, 0.4, 0.2, 0.1])
    plain, full = e.show(), e.show(predictions=True, trust=True)
    assert "Predictions: next token" not in plain and "Predictions: next token" in full
    assert "&lt;script&gt;x&lt;/script&gt;" in full  # a predicted token, escaped
    assert_self_contained(full)


def test_a_matrix_draws_each_row_with_out_of_context_cells_grey():
    m = matrix([[0.5, NAN, NAN], [0.25, -1.0, NAN]])
    page = m._repr_html_()
    assert_self_contained(page)
    cells = chips(page)
    assert len(cells) == 2 * 2 * 3  # methods × rows × tokens
    assert [c["text"] for c in cells[:3]] == [t.label for t in m.tokens]
    out = [c for c in cells if c["title"].endswith("not in context")]
    assert len(out) == 2 * 3 and "background:transparent" in out[0]["style"]
    assert "␣&lt;i&gt;t1&lt;/i&gt;" in page and "Saliency" in page


def test_a_matrix_at_word_level_and_for_chosen_rows_and_methods():
    words = Segmentation("word", (Segment("<script>", 0, 8, (0,)), Segment("pair", 9, 13, (1, 2))))
    m = matrix([[0.5, NAN, NAN], [0.25, -1.0, NAN]], words=words)
    page = m.show(level="word", rows=[1], methods="input_x_gradient")
    cells = chips(page)
    assert [c["text"] for c in cells] == ["<script>", "pair"]
    assert f"score {fmt_score(-1.0)}" in cells[1]["title"]  # the in-context token alone
    assert "Saliency" not in page and "t0" not in page
    with pytest.raises(ww.InputError, match="rows must be indices from 0 to 1"):
        m.show(rows=[2])


def test_the_evidence_view_shows_passages_answers_and_heatmaps_escaped():
    r = evidence_result()
    page = r._repr_html_()
    assert_self_contained(page)
    assert "Paris &lt;script&gt;alert(1)&lt;/script&gt;" in page and "<img" not in page
    assert "␣&lt;i&gt;Rome&lt;/i&gt;" in page and "0.5000 with evidence" in page
    assert "occlusion" in page
    only = r.show(methods=["input_x_gradient"], passages=False)
    assert "occlusion" not in only and "input_x_gradient" in only
    assert "p(z | x)" not in only


def test_generation_and_the_logit_lens_show_their_tokens(tiny_gpt2):
    g = ww.generate("The <b>cat</b>", max_new_tokens=3, model=tiny_gpt2)
    page = g._repr_html_()
    assert_self_contained(page)
    shown = [c["text"] for c in chips(page)]
    assert shown == [t.label for t in g.prompt] + [s.token.label for s in g.steps]
    assert "raw log-prob" in page and "raw log-prob" not in g.show(table=False)
    lens = ww.layers("The <b>cat</b>", target=" the", model=tiny_gpt2, k=3)
    page = lens._repr_html_()
    assert_self_contained(page)
    assert [c["text"] for c in chips(page)][-3:] == [c.label for c in lens.rows[-1].top]
    assert all(esc(t.label) in page for t in lens.tokens) and "<b>cat" not in page
    assert len(chips(lens.show(k=1))) == len(lens.rows)
    top = lens.components.ablations[0].component  # the checked components, in a table
    assert "Which heads and MLPs wrote it" in page and f">{top.label}<" in page
    assert f"Spearman ρ = {lens.components.zero_agreement:+.2f}" in page


def test_show_displays_in_a_kernel_and_returns_the_html_elsewhere(monkeypatch):
    import IPython
    import IPython.display

    e = worded([0.25, 0.5, -0.75, 0.125], [0.3, 0.4, 0.2, 0.1])
    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert e.show(level="word") == e.html(level="word")
    kernel = type("Shell", (), {"kernel": object()})()
    monkeypatch.setattr(IPython, "get_ipython", lambda: kernel)
    monkeypatch.setattr(IPython.display, "display", shown.append)
    assert e.show(level="word") is None
    assert [h.data for h in shown] == [e.html(level="word")]


def test_fifty_tokens_render_well_within_a_notebooks_budget():
    """Issue 26's target: a 50-token explanation displays in ≤ 100 ms."""
    e = simple({m: [0.01 * (i - 25) for i in range(50)] for m in ("a", "b", "c", "d")})
    e._repr_html_()
    start = time.perf_counter()
    e._repr_html_()
    assert time.perf_counter() - start < 0.1
