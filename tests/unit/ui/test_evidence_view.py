"""The Evidence view without a browser: share links, bar clicks and the escaped rendering."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from tests.unit.evidence.test_evidence import PASSAGES, QUERY, retriever  # noqa: F401  (fixture)
from whyword.evidence import explain_with_evidence
from whyword.render import evidence as draw
from whyword.ui.views import evidence_handlers as h

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("WHYWORD_CACHE", str(tmp_path / "cache"))


def test_share_link_round_trips_passages_and_corpus():
    typed = h.Request("Where is it [MASK]?", "one\n\ntwo & three", "", 3, 0.25, 7042)
    back = h.from_params(dict(parse_qsl(h.share_link(typed)[1:])), 5, 0.1)
    assert back == typed
    corpus = h.Request(QUERY, "", "example", 5, 0.1, None)
    params = dict(parse_qsl(h.share_link(corpus)[1:]))
    assert params["tab"] == "evidence" and "ev_passages" not in params
    assert h.from_params(params, 5, 0.1) == corpus
    assert h.from_params({"text": "x"}, 5, 0.1) is None
    odd = h.from_params({"ev_query": "q", "ev_k": "999", "ev_temperature": "x"}, 5, 0.1)
    assert odd.k == 20 and odd.temperature == 0.1 and odd.corpus == "example"


def test_clicked_id():
    assert h.clicked_id("7042:1712345") == 7042
    assert h.clicked_id("") is None and h.clicked_id("abc:1") is None


def test_rendering_escapes_passages_and_labels_paths(tiny_gpt2, retriever):  # noqa: F811
    r = explain_with_evidence(
        QUERY,
        passages=[*PASSAGES, XSS],
        k=5,
        model=tiny_gpt2,
        retriever=retriever,
        methods=("saliency",),
    )
    html = draw.passages_html(r) + draw.heatmaps_html(r)
    assert XSS not in html and "&lt;img" in html
    assert "Reader path" in html and "Retriever path" in html
    fig = draw.marginal_figure(r)
    assert list(fig.data[0].customdata) == [a.token_id for a in r.marginal_top]
