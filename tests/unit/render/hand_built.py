"""Hand-built Explanations for the render tests (no model is loaded), and the HTML parsing
they check markup with."""

from __future__ import annotations

import math
import re
from dataclasses import replace
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


# ---------------------------------------------------------------- other displayable results


def worded(signed_scores, saliency_scores) -> Explanation:
    """` cab` `inet` ` is` ` <script>`: the first two make one word (a segmentation by hand)."""
    from whyword.text.segments import Segment, Segmentation

    tokens = (tok(1, " cab"), tok(2, "inet"), tok(3, " is"), tok(4, " <script>"))
    words = Segmentation(
        "word",
        (
            Segment("cabinet", 1, 8, (0, 1)),
            Segment("is", 9, 11, (2,)),
            Segment("<script>", 12, 20, (3,)),
        ),
    )
    attrs = (
        Attribution("input_x_gradient", tuple(signed_scores), True),
        Attribution("saliency", tuple(saliency_scores), False),
    )
    e = explanation(tokens, attrs, text=" cabinet is <script>")
    return replace(e, segmentations=(words,))


def matrix(rows: list[list[float]], words=None):
    """A causal two-row AttributionMatrix over the HOSTILE tokens: NaN = not in context."""
    from whyword.results.matrix import AttributionMatrix, MethodScores, OutputRow

    tokens = tuple(tok(i, t) for i, t in enumerate(HOSTILE[: len(rows[0])]))
    outputs = tuple(
        OutputRow(
            label=f"position {r} → <b>x{r}</b>",
            position=r,
            target=f" <i>t{r}</i>",
            target_ids=(r,),
            foil=None,
            foil_ids=None,
            objective="log_prob",
            formula="log p(target)",
            value=-1.0,
            target_log_prob=-1.0,
        )
        for r in range(len(rows))
    )
    context = tuple(tuple(not math.isnan(s) for s in row) for row in rows)
    methods = (
        MethodScores("input_x_gradient", True, tuple(tuple(r) for r in rows)),
        MethodScores("saliency", False, tuple(tuple(abs(s) for s in r) for r in rows)),
    )
    return AttributionMatrix(
        "tiny/<b>m</b>", "causal", tokens, outputs, methods, context,
        segmentations=() if words is None else (words,),
    )  # fmt: skip


def evidence_result():
    """Two passages (p(z|x) 0.75 / 0.25, p(y|x,z) 0.6 / 0.2: marginal 0.5), hostile text."""
    from whyword.evidence.marginal import Surrogate
    from whyword.evidence.result import Answer, EvidenceResult, RetrievedPassage, TokenAttribution

    paris = Answer(5, "␣Paris", " Paris", 0.5)
    passages = tuple(
        RetrievedPassage(rank, rank - 1, text, 0.5, p_z, p_y, share, 0.1, 0.2, 0.3)
        for rank, text, p_z, p_y, share in (
            (1, "Paris <script>alert(1)</script>", 0.75, 0.6, 0.9),
            (2, "Rome & <img src=x>", 0.25, 0.2, 0.1),
        )
    )
    attrs = tuple(
        TokenAttribution(
            path, method, 1, ("<script>", " is"), ("passage", "query"), (0.5, -0.25), True
        )
        for path, method in (("reader", "input_x_gradient"), ("reader", "occlusion"))
    )
    return EvidenceResult(
        query="The capital <b>is</b>",
        model="tiny/<b>m</b>",
        retriever="tiny-encoder",
        corpus="typed",
        corpus_size=2,
        mode="next_token",
        k=2,
        temperature=1.0,
        target=paris,
        target_probability_no_evidence=0.3,
        marginal_top=(paris, Answer(6, "␣<i>Rome</i>", " <i>Rome</i>", 0.2)),
        no_evidence_top=(Answer(6, "␣<i>Rome</i>", " <i>Rome</i>", 0.4), paris),
        retrieved=passages,
        surrogate=Surrogate((0.4, 0.1), -2.0, 16, 0, 0.9, 1.0, 0.01),
        token_attributions=attrs,
    )
