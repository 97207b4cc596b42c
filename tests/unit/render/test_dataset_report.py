"""A dataset run's summary as HTML and text (whyword/render/dataset.py): the numbers the
summary holds, every token, id and reason escaped, no markup beyond the renderers' own."""

from __future__ import annotations

from tests.unit.render.hand_built import assert_safe_markup
from whyword.render import summary_html, summary_text
from whyword.results.dataset import DatasetRow, RowResult, summarize

HOSTILE = "<script>alert(1)</script>"


def records() -> list[RowResult]:
    good = RowResult(
        "r&1", "text", " t", None, "m<odel>", "saliency", ("a", HOSTILE), (0.1, 0.9),
        "log p(target)", -1.0, 0.25, 0.75, 0.5, 0.5, "ok", None,
    )  # fmt: skip
    bad = RowResult.failed(DatasetRow("<id>", ""), "m<odel>", "saliency", f"Row {HOSTILE}.")
    return [good, bad]


def test_report_html_escapes_every_string_and_shows_the_numbers():
    markup = summary_html(summarize(records()))
    assert_safe_markup(markup)
    assert HOSTILE not in markup and "&lt;script&gt;" in markup
    assert "&lt;id&gt;" in markup and "r&amp;1" not in markup  # failed ids only, escaped
    assert "m&lt;odel&gt;" in markup
    assert "0.250 [0.250, 0.250]" in markup and "0.750 [0.750, 0.750]" in markup
    assert "1 ok" in markup and "1 failed" in markup


def test_report_text_lists_methods_first_tokens_and_failures():
    text = summary_text(summarize(records()))
    assert "saliency  1     0.250 [0.250, 0.250]  0.750 [0.750, 0.750]  0.500 / 0.500\n" in text
    assert f"saliency: {HOSTILE!r} ×1" in text
    assert f"<id>: Row {HOSTILE}." in text  # plain text: printed as typed
    assert "No row failed." in summary_html(summarize(records()[:1]))


def test_a_summary_draws_itself_in_a_notebook():
    summary = summarize(records())
    fragment = summary._repr_html_()
    assert_safe_markup(fragment)
    assert fragment.startswith("<div") and "<html" not in fragment
    assert fragment in summary_html(summary).replace("WhyWord dataset run", "Dataset run")
    assert summary.html(top=0).count("×") == 0 and "×1" in fragment
