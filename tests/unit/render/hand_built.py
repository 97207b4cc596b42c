"""Hand-built Explanations for the render tests (no model is loaded), and the HTML parsing
they check markup with."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser

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


# ---------------------------------------------------------------- hand-built results


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
