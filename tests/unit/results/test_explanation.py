"""The Explanation a user holds: JSON round trip, DataFrame, escaped notebook HTML, and result
dataclasses that check their invariants."""

from __future__ import annotations

import html
import math

import pytest

import whyword as ww


def test_explanation_round_trips_and_escapes(tiny_gpt2):
    e = ww.explain(
        "<script>alert(1)</script> is",
        methods=("saliency", "integrated_gradients"),
        model=tiny_gpt2,
        n_steps=4,
    )
    assert ww.Explanation.from_json(e.to_json()) == e
    frame = e.to_dataframe()
    assert list(frame.columns[-2:]) == ["saliency", "integrated_gradients"]
    assert len(frame) == len(e.tokens)
    page = e._repr_html_()  # the page's heatmap (tests/unit/render/test_notebook_display.py)
    assert any("<" in t.label for t in e.tokens)  # the text really gives tokens to escape
    assert "<script" not in page
    for t in e.tokens:  # every label is on its chip, escaped
        assert f">{html.escape(t.label)}</span>" in page
    assert e.loss == pytest.approx(-e.target_log_prob)
    assert math.isclose(e.target_probability, math.exp(e.target_log_prob))


def test_results_check_their_invariants():
    from whyword.results.explanation import Attribution

    with pytest.raises(AssertionError):
        Attribution(method="saliency", scores=(0.1, -0.2), signed=False)
    with pytest.raises(AssertionError):
        Attribution(method="x", scores=(float("nan"),), signed=True)
