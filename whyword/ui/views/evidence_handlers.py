"""The Evidence view's logic, gradio-free: run a request, render it, read / write share links."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from whyword.errors import InputError, WhyWordError
from whyword.ui.mistakes import user_mistake
from whyword.ui.params import number_in

PREFIX = "ev_"  # this view's URL parameters
EXAMPLE_QUERY = "The Eiffel Tower is in the city of [MASK]."
MAX_LINK_PASSAGES_CHARS = 6000  # longer typed passages are not put in a share link
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    query: str
    passages: str  # typed text, one passage per paragraph ("" with a corpus)
    corpus: str  # "" or a shipped corpus name
    k: int
    temperature: float
    target: int | str | None  # a token id (a bar click, a share link) or a word (the API)


@dataclass(frozen=True)
class Shown:
    """What the view shows after a request (figures are plotly objects, or None)."""

    passages_html: str
    marginal: Any
    no_evidence: Any
    heatmaps_html: str
    status: str
    link: str
    target: int | None


def compute(req: Request, model: str | None):
    """The view's `EvidenceResult` for `req` under this server's limits (the page and the
    /evidence endpoint); a user's mistake raises its WhyWordError."""
    from whyword.evidence import explain_with_evidence
    from whyword.models.limits import current_limits
    from whyword.serve.backend import scheduled_explain

    limits = current_limits()
    name = limits.check_model(model)
    limits.check_text(req.query)
    if not (req.query or "").strip():
        raise InputError("The query is empty: type a sentence with [MASK] where the answer goes.")
    return explain_with_evidence(
        req.query,
        passages=None if req.corpus else req.passages,
        corpus=req.corpus or None,
        k=req.k,
        target=req.target,
        model=name,
        temperature=req.temperature,
        explainer=scheduled_explain,  # the lanes: a long one never holds the class's model
    )


def run(req: Request, model: str | None) -> Shown:
    """Compute and render; a user's mistake is one sentence in the status line."""
    from whyword.render import evidence as draw
    from whyword.render.text import esc

    try:
        result = compute(req, model)
    except WhyWordError as error:
        user_mistake("evidence page", error)
        return Shown("", None, None, "", f"⚠️ {esc(str(error))}", share_link(req), req.target)
    except Exception:  # logged for the operator; the page stays up
        log.exception("evidence request failed")
        return Shown("", None, None, "", "⚠️ Something went wrong on the server.", "", req.target)
    seconds = result.timings
    status = (
        f"Answer **{esc(result.target.token)}**: p(y | x) = {result.target.probability:.4f} with "
        f"the top-{result.k} of {result.corpus_size} passages, "
        f"{result.target_probability_no_evidence:.4f} with none. Retrieval "
        f"{seconds['retrieval']:.2f} s, reader {seconds['reader']:.2f} s, explanation "
        f"{seconds['reader_path'] + seconds['retriever_path']:.2f} s."
    )
    done = Request(
        req.query, req.passages, req.corpus, result.k, req.temperature, result.target.token_id
    )
    return Shown(
        draw.passages_html(result),
        draw.marginal_figure(result),
        draw.no_evidence_figure(result),
        draw.heatmaps_html(result),
        status,
        share_link(done),
        result.target.token_id,
    )


def clicked_id(value: str | None) -> int | None:
    """The token id a bar click wrote ("7042:1712345678"), or None."""
    return number_in(value)


def share_link(req: Request) -> str:
    """The URL query that reproduces the view: tab=evidence and this view's prefixed params."""
    params = {"tab": "evidence", f"{PREFIX}query": req.query}
    if req.corpus:
        params[f"{PREFIX}corpus"] = req.corpus
    elif len(req.passages) <= MAX_LINK_PASSAGES_CHARS:
        params[f"{PREFIX}passages"] = req.passages
    params[f"{PREFIX}k"] = str(req.k)
    params[f"{PREFIX}temperature"] = f"{req.temperature:g}"
    if req.target is not None:
        params[f"{PREFIX}target"] = f"id:{req.target}"
    return "?" + urlencode(params)


def from_params(params: dict[str, str], default_k: int, default_t: float) -> Request | None:
    """The request a share link holds, or None when it holds none (no ev_query)."""
    query = params.get(f"{PREFIX}query")
    if not query:
        return None
    corpus = params.get(f"{PREFIX}corpus", "")
    passages = params.get(f"{PREFIX}passages", "")
    try:
        k = min(20, max(1, int(params.get(f"{PREFIX}k", default_k))))
    except ValueError:
        k = default_k
    try:
        temperature = min(100.0, max(0.001, float(params.get(f"{PREFIX}temperature", default_t))))
    except ValueError:
        temperature = default_t
    raw = params.get(f"{PREFIX}target", "")
    target = number_in(raw[3:]) if raw.startswith("id:") else None
    return Request(
        query, passages, corpus if corpus or passages else "example", k, temperature, target
    )
