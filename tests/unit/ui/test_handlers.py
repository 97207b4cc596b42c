"""Every page event, called as the plain function the page calls (no server, no browser)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.tolerances import SAME_ARITHMETIC, assert_close
from whyword.ui import handlers
from whyword.ui.handlers import GENERIC_ERROR, Outcome
from whyword.ui.share import Query, decode, encode, parse_target, token_ref

FAST = {"methods": ("saliency", "integrated_gradients"), "steps": 4, "max_steps": 0, "k": 5}
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(autouse=True)
def local_mode(monkeypatch):
    """Local (not hosted) limits unless a test says otherwise."""
    monkeypatch.delenv("WHYWORD_HOSTED", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    monkeypatch.delenv("WHYWORD_MODELS", raising=False)
    from whyword.models.load import probe_kind

    probe_kind.cache_clear()


@pytest.fixture(scope="module")
def gpt2_view(tiny_paths):
    """A first result on the tiny causal LM, and the session state after it."""
    outcome = handlers.on_submit(
        Query(text="The capital of France is", model=tiny_paths["gpt2"], **FAST)
    )
    assert outcome.ok, outcome.error
    return outcome, handlers.next_state(outcome, None)


def ok(outcome: Outcome) -> Outcome:
    assert outcome.ok, outcome.error
    return outcome


# --- submit ----------------------------------------------------------------------------------


def test_submit_shows_topk_heatmap_trust_and_state(gpt2_view):
    outcome, state = gpt2_view
    e = outcome.explanation
    assert not outcome.reused and outcome.seconds > 0
    assert {a.method for a in e.attributions} == {"saliency", "integrated_gradients"}
    figure = handlers.topk_figure(e)
    assert list(figure.data[0].customdata) == [c.token_id for c in e.predictions[0].candidates]
    assert "␣is</span>" in handlers.heatmap(e, outcome.query)
    assert [v for _, v in handlers.target_choices(e)] == [
        token_ref(c.token_id) for c in e.predictions[0].candidates
    ]
    assert handlers.foil_choices(e)[0] == ("— no foil —", "")
    assert handlers.mask_choices(e) == []
    assert state["query"]["text"] == "The capital of France is"
    assert state["query"]["target"] == token_ref(e.target_ids[0])  # top-1 shown as its entry
    assert "Time:" in handlers.status_markdown(outcome)


def test_submit_of_new_text_resets_target_and_foil(gpt2_view, tiny_paths):
    _, state = gpt2_view
    query = Query(
        text="To be or not to", model=tiny_paths["gpt2"], target="id:5", foil="id:6", **FAST
    )
    e = ok(handlers.on_submit(query, state)).explanation
    assert e.foil is None and e.target_ids == (e.predictions[0].candidates[0].token_id,)


def test_submit_of_same_text_keeps_target_and_reuses_predictions(gpt2_view):
    outcome, state = gpt2_view
    second = outcome.explanation.predictions[0].candidates[1].token_id
    query = outcome.query.with_(target=token_ref(second), methods=("occlusion",))
    again = ok(handlers.on_submit(query, state))
    assert again.reused and again.explanation.target_ids == (second,)
    assert [a.method for a in again.explanation.attributions] == ["occlusion"]


@pytest.mark.slow
def test_submit_on_the_default_model_predicts_paris(smol):
    query = Query(text="The capital of France is", methods=("saliency",), k=5)
    outcome = ok(handlers.on_submit(query))
    e = outcome.explanation
    assert e.predictions[0].candidates[0].text == " Paris"
    assert e.target == " Paris" and e.target_probability > 0.5
    assert handlers.effective_query(outcome).target == token_ref(e.target_ids[0])
    assert "next token" in handlers.result_mode_note(e)


# --- retargeting: click, dropdown, any word --------------------------------------------------


def test_click_on_a_bar_retargets_without_new_predictions(gpt2_view, monkeypatch):
    outcome, state = gpt2_view
    from whyword.tasks import explain as explain_module

    def no_forward(*args, **kwargs):
        raise AssertionError("predictions were recomputed")

    monkeypatch.setattr(explain_module, "compute_predictions", no_forward)
    third = outcome.explanation.predictions[0].candidates[2].token_id
    clicked = ok(handlers.on_bar_click(f"{third}:1712345", "target", outcome.query, state))
    assert clicked.reused
    assert clicked.explanation.target_ids == (third,)
    assert clicked.explanation.predictions == outcome.explanation.predictions
    colours = handlers.topk_figure(clicked.explanation).data[0].marker.color
    assert colours[2] != colours[0]  # the clicked bar is highlighted, the old top-1 is not
    assert handlers.next_state(clicked, state)["query"]["target"] == token_ref(third)


def test_click_in_foil_role_sets_the_foil(gpt2_view):
    outcome, state = gpt2_view
    second = outcome.explanation.predictions[0].candidates[1].token_id
    e = ok(handlers.on_bar_click(str(second), "foil", outcome.query, state)).explanation
    assert e.objective == "contrastive" and e.foil_ids == (second,)
    assert e.target_ids == outcome.explanation.target_ids


def test_click_without_a_token_id_is_a_message(gpt2_view):
    outcome, state = gpt2_view
    bad = handlers.on_bar_click("undefined", "target", outcome.query, state)
    assert not bad.ok and "token id" in bad.error
    assert handlers.next_state(bad, state) is state


def test_target_dropdown_retargets(gpt2_view):
    outcome, state = gpt2_view
    value = handlers.target_choices(outcome.explanation)[3][1]
    e = ok(handlers.on_pick_target(value, outcome.query, state)).explanation
    assert e.target_ids == (parse_target(value),)


def test_any_word_retargets(gpt2_view):
    outcome, state = gpt2_view
    e = ok(handlers.on_word("Rome", outcome.query, state)).explanation
    assert e.target.strip() == "Rome" and e.target.startswith(" ")


def test_empty_word_is_a_message(gpt2_view):
    outcome, state = gpt2_view
    assert "Type a word" in handlers.on_word("  ", outcome.query, state).error


def test_retarget_explains_the_view_on_screen_not_the_edited_text(gpt2_view):
    outcome, state = gpt2_view
    edited = outcome.query.with_(text="Something typed but not submitted")
    clicked = ok(handlers.on_pick_target("", edited, state))
    assert clicked.explanation.text == outcome.query.text and clicked.reused


# --- foil ------------------------------------------------------------------------------------


def test_set_and_clear_foil(gpt2_view):
    outcome, state = gpt2_view
    foil = handlers.foil_choices(outcome.explanation)[2][1]
    with_foil = ok(handlers.on_foil(foil, outcome.query, state))
    e = with_foil.explanation
    assert e.formula == "log p(target) − log p(foil)" and e.foil_ids == (parse_target(foil),)
    assert handlers.effective_query(with_foil).foil == foil
    state2 = handlers.next_state(with_foil, state)
    cleared = ok(handlers.on_clear_foil(Query.from_dict(state2["query"]), state2)).explanation
    assert cleared.foil is None and cleared.objective == "log_prob"
    assert cleared.target_ids == e.target_ids


def test_foil_equal_to_target_is_a_message(gpt2_view):
    outcome, state = gpt2_view
    same = token_ref(outcome.explanation.target_ids[0])
    bad = handlers.on_foil(same, outcome.query, state)
    assert not bad.ok and "same as the target" in bad.error


def test_foil_as_a_free_word(gpt2_view):
    outcome, state = gpt2_view
    e = ok(handlers.on_foil("Rome", outcome.query, state)).explanation
    assert e.foil.strip() == "Rome"


# --- masked mode -----------------------------------------------------------------------------


def test_mask_selection_has_a_target_per_mask(tiny_paths):
    query = Query(text="the capital of [MASK] is [MASK] .", model=tiny_paths["bert"], **FAST)
    first = ok(handlers.on_submit(query))
    e = first.explanation
    assert e.mode == "masked" and len(handlers.mask_choices(e)) == 2
    state = handlers.next_state(first, None)
    picked = handlers.target_choices(e)[2][1]
    on_first = ok(handlers.on_pick_target(picked, first.query, state))
    state = handlers.next_state(on_first, state)
    second = ok(handlers.on_mask(1, Query.from_dict(state["query"]), state))
    assert second.reused and second.explanation.mask == 1
    assert second.explanation.target_ids == (e.predictions[1].candidates[0].token_id,)
    assert "[MASK] 2" in handlers.chart_title(second.explanation)
    state = handlers.next_state(second, state)
    back = ok(handlers.on_mask(0, Query.from_dict(state["query"]), state))
    assert back.explanation.target_ids == (parse_target(picked),)  # remembered per mask


def test_masked_model_without_a_mask_is_a_message(tiny_paths):
    bad = handlers.on_submit(Query(text="the capital of france", model=tiny_paths["bert"], **FAST))
    assert not bad.ok and "[MASK]" in bad.error


def test_mode_note_follows_model_and_text(tiny_paths):
    assert "next token" in handlers.mode_note("The capital of", "default")
    assert "infill" in handlers.mode_note("The capital of [MASK].", "default")
    assert "fill mask" in handlers.mode_note("a [MASK] b [MASK]", tiny_paths["bert"])
    assert "2 masks" in handlers.mode_note("a [MASK] b [MASK]", tiny_paths["bert"])
    assert "put [MASK]" in handlers.mode_note("no mask here", tiny_paths["bert"])
    assert "detected when" in handlers.mode_note("x", "/no/such/folder")


@pytest.mark.slow
def test_mask_on_a_causal_model_uses_infill_and_says_so(smol):
    query = Query(text="The capital of France is [MASK].", methods=("saliency",), k=5)
    e = ok(handlers.on_submit(query)).explanation
    assert e.mode == "infill" and "infill" in handlers.result_mode_note(e)
    assert e.predictions[0].candidates[0].text == " Paris"
    assert any("Infill scoring" in note for note in e.notes)


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


# --- errors and limits -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"text": ""}, "empty"),
        ({"text": "   "}, "empty"),
        ({"methods": ()}, "at least one"),
        ({"model": "/no/such/folder"}, "no such folder"),
        ({"target": "id:99999999"}, "out of range"),
        ({"mask": 3}, "no mask number"),
    ],
)
def test_errors_are_messages_not_exceptions(tiny_paths, changes, expected):
    query = Query(text="The capital of France is", model=tiny_paths["gpt2"], **FAST).with_(
        **changes
    )
    outcome = handlers.run(query)
    assert not outcome.ok and expected in outcome.error


def test_a_word_outside_the_vocabulary_is_a_message(tiny_paths):
    query = Query(text="the capital is [MASK] .", model=tiny_paths["bert"], target="€", **FAST)
    outcome = handlers.run(query)
    assert not outcome.ok and "vocabulary" in outcome.error


def test_unexpected_failures_are_logged_not_shown(monkeypatch, caplog, tiny_paths):
    import whyword.ui.session as module

    def boom(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(module, "explain", boom)
    with caplog.at_level(logging.ERROR, logger="whyword.ui"):
        outcome = handlers.run(Query(text="hello", model=tiny_paths["gpt2"], **FAST))
    assert outcome.error == GENERIC_ERROR and "secret" not in outcome.error
    assert "secret internal detail" in caplog.text  # the stack trace stays on the server


def test_hosted_mode_limits_are_enforced(monkeypatch, tiny_paths):
    monkeypatch.setenv("WHYWORD_HOSTED", "1")
    base = Query(text="The capital of France is", **FAST)
    assert "only offers" in handlers.run(base.with_(model="some/other-model")).error
    assert "local folders" in handlers.run(base.with_(model=tiny_paths["gpt2"])).error
    assert "at most 2,000" in handlers.run(base.with_(text="x" * 2001)).error
    assert "k is 26" in handlers.run(base.with_(k=26)).error
    assert "IG steps is 300" in handlers.run(base.with_(max_steps=300)).error
    assert "SmoothGrad samples is 33" in handlers.run(base.with_(samples=33)).error
    assert "Hosted mode" in handlers.limits_line()


def test_token_limit_comes_from_the_server_limits(monkeypatch, tiny_paths):
    options = handlers.options_for(Query(text="x"), max_tokens=128)
    assert options.max_tokens == 128 and options.adaptive
    no_refine = handlers.options_for(Query(text="x", steps=32, max_steps=0), max_tokens=8)
    assert not no_refine.adaptive and no_refine.max_steps == 32
    too_long = handlers.run(Query(text="word " * 40, model=tiny_paths["gpt2"], **FAST))
    assert too_long.ok  # the tiny model takes 128 tokens
    monkeypatch.setenv("WHYWORD_HOSTED", "1")
    from whyword.ui import session

    monkeypatch.setattr(session, "current_limits", lambda: _limits_with(max_tokens=8))
    refused = handlers.run(Query(text="word " * 40, model=tiny_paths["gpt2"], **FAST))
    assert "at most 8" in refused.error


def _limits_with(**changes):
    from dataclasses import replace

    from whyword.models.limits import current_limits

    return replace(current_limits(), local_paths=True, any_model=True, **changes)


def test_progress_callback_reports(tiny_paths):
    seen: list[tuple[float, str]] = []
    query = Query(text="The capital of France is", model=tiny_paths["gpt2"], **FAST)
    ok(handlers.run(query.with_(steps=4, max_steps=64), None, lambda f, d: seen.append((f, d))))
    assert seen and all(0.0 <= f <= 1.0 for f, _ in seen)


# --- API endpoints ---------------------------------------------------------------------------


def test_api_explain_returns_json_and_html(tiny_paths):
    data, page = handlers.api_explain(
        "The capital of France is", tiny_paths["gpt2"], methods="saliency", steps=4, k=3
    )
    assert data["target"] and len(data["attributions"][0]["scores"]) == len(data["tokens"])
    assert len(data["predictions"][0]["candidates"]) == 3
    assert "␣is" in page
    json.dumps(data)  # plain JSON values only


def test_api_errors_raise_the_message(tiny_paths):
    from whyword import WhyWordError

    with pytest.raises(WhyWordError, match="empty"):
        handlers.api_explain("", tiny_paths["gpt2"])
    with pytest.raises(WhyWordError, match="k must be"):
        handlers.api_predict("hello", tiny_paths["gpt2"], k=0)
    rows = handlers.api_predict("hello", tiny_paths["gpt2"], k=2)
    assert [r["rank"] for r in rows] == [1, 2]


def test_error_messages_are_escaped_for_markdown_and_html():
    from whyword.ui.handlers import escape_markdown

    hostile = "Could not load model '[x](https://evil.example) <img src=x onerror=alert(1)>'"
    shown = escape_markdown(hostile)
    assert "](" not in shown.replace("\\](", "") and "<img" not in shown
    assert "&lt;img" in shown


@pytest.mark.parametrize(
    "message",
    [
        "Could not load model 'it's' (a \"quoted\" name) & more <b>bold</b>",
        "# not a heading *nor emphasis* [x](https://evil.example) 1. 2) - + > `code` \\ | ~ $x$",
    ],
)
def test_markdown_escaping_shows_the_text_once(message):
    """What gradio's Markdown renders from escape_markdown reads exactly as the message: no
    `&#x27;` shown literally (escaped twice), no markup, no link."""
    import html as html_lib
    import re

    from markdown_it import MarkdownIt

    from whyword.ui.handlers import escape_markdown

    rendered = MarkdownIt("commonmark").render(escape_markdown(message))
    assert rendered.startswith("<p>") and rendered.count("<") == 2  # one paragraph, no tags
    assert html_lib.unescape(re.sub(r"</?p>", "", rendered)).strip() == message


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
