"""What every answer must be: a correct, finite result rendered as text, or one clear sentence;
and afterwards a normal request still works."""

from __future__ import annotations

import math
from html.parser import HTMLParser

import whyword as ww
from tests.integration.bad_input.cases import ENTITIES, IMG, MARKDOWN, SCRIPT, Case
from whyword import render
from whyword.results.explanation import Explanation


def assert_correct(e: Explanation, case: Case) -> None:
    assert e.predictions and e.predictions[0].candidates
    for a in e.attributions:
        assert len(a.scores) == len(e.tokens)
        assert all(math.isfinite(s) for s in a.scores), (a.method, a.scores)
    assert math.isfinite(e.value)
    if case.check is not None:
        case.check(e)
    assert_rendered_as_text(e)


def assert_clear(message: str, expected: str) -> None:
    assert expected in message, message
    assert "Traceback" not in message and 'File "' not in message
    assert "Something went wrong" not in message  # the generic fallback means a bug
    assert 0 < len(message) < 400 and "\n" not in message


def assert_still_serving(models: dict[str, str]) -> None:
    e = ww.explain("The capital of France is", methods=("saliency",), model=models["gpt2"])
    assert len(e.attributions[0].scores) == len(e.tokens)


# --- rendering: the text stays text ----------------------------------------------------------

ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "body",
    "h1",
    "div",
    "span",
    "b",
    "br",
    "p",
    "table",
    "tr",
    "th",
    "td",
    "ul",
    "li",
    "details",  # the heatmap's "Technical details", one click away
    "summary",
    "sup",
}


class Page(HTMLParser):
    """The tags, attribute names and text of an HTML fragment."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attrs: set[str] = set()
        self.text: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs |= {name for name, _ in attrs}

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_rendered_as_text(e: Explanation) -> None:
    for markup in (render.export_html(e), render.heatmap_html(e)):
        page = Page(markup)
        assert page.tags <= ALLOWED_TAGS, page.tags - ALLOWED_TAGS
        assert not any(a.startswith("on") for a in page.attrs), page.attrs
        assert "javascript:" not in markup.lower().replace("javascript:alert(1))", "")
    whole = "".join(Page(render.export_html(e)).text)
    if isinstance(e.text, str) and e.text in (SCRIPT, IMG, ENTITIES, MARKDOWN):
        assert e.text in whole  # the header shows the text exactly as typed
