"""Failures and limits through the page's handlers and API endpoints: one-sentence messages (never
an exception or a stack trace), hosted limits, progress, and messages escaped for Markdown."""

from __future__ import annotations

import json
import logging

import pytest

from tests.unit.ui.handlers_kit import FAST, ok
from whyword.ui import handlers
from whyword.ui.handlers import GENERIC_ERROR
from whyword.ui.share import Query

pytestmark = pytest.mark.usefixtures("local_limits")


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
