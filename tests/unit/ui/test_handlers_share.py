"""Share links and exports through the page's handlers: links that round-trip and reproduce the
view, lenient decoding that says what it changed, readable targets, escaped export files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.tolerances import SAME_ARITHMETIC, assert_close
from tests.unit.ui.handlers_kit import FAST, XSS, ok
from whyword.ui import handlers
from whyword.ui.handlers import Outcome
from whyword.ui.share import Query, decode, encode

pytestmark = pytest.mark.usefixtures("local_limits")


# --- share links -----------------------------------------------------------------------------


def test_share_state_round_trip():
    query = Query(
        text='Ünïcode & "quotes" <b>bold</b> [MASK] #x?y=z',
        model="bert-base-uncased",
        target="id:42",
        foil=" is",
        methods=("occlusion", "saliency"),
        steps=48,
        max_steps=128,
        baseline="pad",
        k=7,
        mask=1,
        samples=20,
        noise=0.25,
        special=True,
        normalise="shared",
    )
    from urllib.parse import parse_qsl

    assert decode(dict(parse_qsl(encode(query), keep_blank_values=True))) == query
    assert decode(dict(parse_qsl(encode(Query()), keep_blank_values=True))) == Query()
    no_refinement = Query(text="x", max_steps=0)  # 0 is a real setting: refinement off
    assert decode(dict(parse_qsl(encode(no_refinement), keep_blank_values=True))) == no_refinement


def test_share_decoding_is_lenient():
    query = decode(
        {"text": "hi", "k": "lots", "steps": "-3", "methods": "nope,saliency", "baseline": "x"}
    )
    assert query == Query(text="hi", methods=("saliency",), steps=4)  # -3: the slider's low end
    assert decode({}).model == "default"


def test_share_decoding_says_what_it_changed():
    from whyword.ui.share import Bounds, decode_with_changes

    params = {"steps": "999999", "k": "-5", "methods": "nonexistent", "foo": "bar"}
    params |= {"__theme": "dark", "noise": "nan", "normalise": "odd", "samples": "7"}
    query, changes = decode_with_changes(params, Bounds(k=(1, 30), steps=(4, 256)))
    assert (query.steps, query.k, query.methods) == (256, 1, Query().methods)
    assert (query.noise, query.normalise, query.samples) == (Query().noise, "per_method", 7)
    assert [c.split(":")[0].split("=")[0] for c in changes] == [
        "foo", "methods", "steps", "k", "noise", "normalise"
    ]  # fmt: skip
    assert changes[2] == "steps=999999: more than this page allows; using 256."
    assert changes[3] == "k=-5: less than 1; using 1."
    assert decode_with_changes({"k": "60"}, Bounds(k=(1, 30)))[0].k == 30  # the slider's max
    assert decode_with_changes({"k": "12", "__theme": "dark"}) == (Query(k=12), ())
    shown = handlers.changes_markdown(changes)
    assert shown.count("\n- ") == len(changes)
    assert "- foo\\: not a WhyWord setting" in shown  # Markdown-escaped, shown as typed
    assert handlers.changes_markdown(()) == ""


@pytest.mark.numerics
def test_share_link_reproduces_the_view(gpt2_view, tiny_paths):
    outcome, state = gpt2_view
    third = outcome.explanation.predictions[0].candidates[2].token_id
    clicked = ok(handlers.on_bar_click(str(third), "target", outcome.query, state))
    from urllib.parse import parse_qsl

    link = encode(handlers.effective_query(clicked))
    query, opened, changes = handlers.on_load(dict(parse_qsl(link, keep_blank_values=True)))
    assert changes == ()  # the page's own link fits the page
    assert query == handlers.effective_query(clicked)
    ok(opened)
    assert opened.explanation.target_ids == (third,)
    scores = opened.explanation.attributions[0].scores, clicked.explanation.attributions[0].scores
    assert_close(*scores, SAME_ARITHMETIC)  # a fresh run against a retarget that reused state
    assert handlers.on_load({}) == (None, None, ())  # a plain visit runs nothing
    assert handlers.on_load({"k": "3"}) == (Query(k=3), None, ())  # settings only: nothing runs


# --- exports ---------------------------------------------------------------------------------


def test_exports_are_files_with_escaped_content(tiny_paths):
    e = ok(handlers.on_submit(Query(text=XSS, model=tiny_paths["gpt2"], **FAST))).explanation
    csv_path, json_path, html_path = (handlers.write_export(e, k) for k in ("csv", "json", "html"))
    page = Path(html_path).read_text(encoding="utf-8")
    assert "<img" not in page and "&lt;img" in page and "<script" not in page
    assert json.loads(Path(json_path).read_text(encoding="utf-8"))["text"] == XSS
    assert Path(csv_path).read_text(encoding="utf-8").splitlines()[1].startswith("position,token")
    assert "<img" not in handlers.heatmap(e, Query())
    assert "<img" not in handlers.status_markdown(Outcome(Query(), e))


def test_old_exports_are_pruned(gpt2_view):
    path = handlers.write_export(gpt2_view[0].explanation, "json")
    handlers.prune_exports(max_age=-1)
    assert not Path(path).exists()


def test_export_file_names_carry_text_and_target(gpt2_view):
    from dataclasses import replace

    e = gpt2_view[0].explanation
    stem = handlers.export_stem(replace(e, text="The capital of France is", target=" Paris"))
    assert stem == "whyword-the-capital-of-france-is-paris"
    hostile = replace(e, text="../../etc/passwd <x> Ünï", target="\x00?*")
    assert handlers.export_stem(hostile) == "whyword-etc-passwd-x-uni"
    assert handlers.export_stem(replace(e, text="שלום", target="😀")) == "whyword-explanation"
    assert len(handlers.export_stem(replace(e, text="word " * 40))) <= 60
    paths = [
        handlers.write_export(replace(e, text="Hi there", target=" you"), k)
        for k in ["csv", "json", "html"]
    ]
    assert [Path(p).name for p in paths] == [
        f"whyword-hi-there-you.{s}" for s in ("csv", "json", "html")
    ]


def test_share_links_store_readable_targets_that_round_trip(gpt2_view):
    from urllib.parse import parse_qsl

    outcome, state = gpt2_view
    e = outcome.explanation
    spaced = [c for c in e.predictions[0].candidates if c.text[:1] == " " and len(c.text) > 1]
    assert spaced, "the tiny model's top-k has a word with a leading space"
    clicked = ok(handlers.on_bar_click(str(spaced[0].token_id), "target", outcome.query, state))
    query = handlers.shareable_query(clicked)
    assert query.target == "␣" + spaced[0].text[1:]  # readable, not id:N
    _, opened, _ = handlers.on_load(dict(parse_qsl(encode(query), keep_blank_values=True)))
    assert ok(opened).explanation.target_ids == (spaced[0].token_id,)  # the same token
    glued = handlers.readable_ref(outcome.query.model, 5, "Paris")  # the core would add a space
    assert glued is None


def test_word_level_heatmap_and_share_link(gpt2_view):
    from urllib.parse import parse_qsl

    from whyword.ui.share import decode, encode

    outcome, _ = gpt2_view
    query = outcome.query.with_(level="word")
    assert decode(dict(parse_qsl(encode(query)))).level == "word"
    words = handlers.heatmap(outcome.explanation, query)
    tokens = handlers.heatmap(outcome.explanation, outcome.query)
    assert ">capital<" in words and "␣capital" in tokens and "␣capital" not in words
