"""The "What would change the answer?" panel from hand-built results: every token text and
edited sentence escaped (in the text and in the `data-text` the click loads), the changed word
(and only it) highlighted with the old one in its title, p(target) before → after, the
flipped flag, the edits that raise F left out, and "not found within the budget" said."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser

from tests.unit.render.hand_built_edits import SUBJECT, edit, hotflip, what_if
from whyword.render import counterfactuals as draw
from whyword.results.counterfactuals import WhatIf


class Doc(HTMLParser):
    """Tags, the text inside each <mark>, each button's data-text and text."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.marks: list[str] = []
        self.buttons: list[dict[str, str]] = []
        self._in: list[str] = []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in.append(tag)
        if tag == "mark":
            self.marks.append("")
        if tag == "button":
            self.buttons.append({"data-text": dict(attrs).get("data-text", ""), "text": ""})

    def handle_endtag(self, tag):
        self._in.pop()

    def handle_data(self, data):
        if "mark" in self._in:
            self.marks[-1] += data
        if "button" in self._in:
            self.buttons[-1]["text"] += data


def test_every_token_is_escaped_and_the_click_loads_the_exact_edited_text():
    html = draw.counterfactuals_html(what_if())
    assert "Edits of “The &lt;b&gt;cap&lt;/b&gt; of France is” for ␣Paris" in html
    assert "(tiny/&lt;b&gt;model&lt;/b&gt;)" in html
    assert "<b>cap" not in html and "<i>" not in html and "&lt;b&gt;cap&lt;/b&gt;" in html
    doc = Doc(html)
    assert set(doc.tags) <= {"div", "p", "ol", "li", "button", "mark", "b", "span"}
    by_text = {b["data-text"] for b in doc.buttons}
    # the text a click loads is the decoded edit, character for character (`&amp;` typed)
    assert "The <b>cap</b> &amp; France is" in by_text
    assert "The <b>cap</b> France is" in by_text  # the reduction's shortest input
    for b in doc.buttons[:4]:  # what the button shows is what it loads
        assert b["text"] == b["data-text"]


def test_the_changed_word_only_is_highlighted_with_the_old_one_in_its_title():
    c = edit(3, " Spain", -0.5, 5)
    sentence = draw.edit_sentence(SUBJECT, c)
    assert Doc(sentence).marks == ["Spain"]  # the leading space stays outside the mark
    assert 'title="was: ␣France"' in sentence and sentence.startswith("The &lt;b&gt;")
    assert sentence.endswith("</mark> is") and " <mark" in sentence


def test_probabilities_top1_and_the_flipped_flag():
    row = draw.edit_row(SUBJECT, edit(2, " &amp;", -1.0, 6))
    assert "p(␣Paris) 60.0 % → 22.1 %" in row  # 0.6 · e^-1 = 0.2207
    assert "new top-1 <b>␣London</b>" in row and 'class="ww-cf-flipped">flipped' in row
    kept = draw.edit_row(SUBJECT, edit(3, " Spain", -0.5, 5))
    assert "not flipped" in kept and "36.4 %" in kept  # 0.6 · e^-0.5 = 0.3639
    tiny = draw.edit_row(SUBJECT, edit(3, " Spain", -9.0, 5))  # 0.6 · e^-9 = 0.0074 %
    assert "60.0 % → &lt; 0.01 %" in tiny
    assert "→ 0.22 %" in draw.edit_row(SUBJECT, edit(3, " Spain", -5.6, 5))  # 0.2219 %
    evil = dataclasses.replace(SUBJECT, target="␣<b>P")
    assert "p(␣&lt;b&gt;P) 60.0 %" in draw.edit_row(evil, edit(3, " Spain", -0.5, 5))


def test_the_list_leads_with_each_positions_strongest_edit_and_drops_edits_that_raise_f():
    shown = draw.shown_edits(what_if())
    assert [c.substitutions[0].position for c in shown] == [2, 3, 1, 4]
    assert all(c.delta_log_prob < 0 for c in shown)  # " y" raised p(target): not listed
    second = edit(2, " a", -0.9, 6)  # position 2's second edit waits behind every first
    more = dataclasses.replace(
        what_if(),
        hotflip=dataclasses.replace(hotflip(), edits=(*hotflip().edits, second), forwards=6),
    )
    assert [c.substitutions[0].position for c in draw.shown_edits(more)] == [2, 3, 1, 4, 2]
    lead = re.search(r'<p class="ww-cf-lead">([^<]*)</p>', draw.hotflip_html(what_if()))
    assert "5 single-token edits run through the model at 4 positions" in lead.group(1)
    assert "the 4 that lower log p(target) most" in lead.group(1)


def test_not_found_within_the_budget_and_a_part_that_could_not_run_are_said():
    html = draw.counterfactuals_html(what_if(found=False, reduced=False))
    assert "No flip found within the budget (20 of 20 edited inputs run" in html
    assert "ww-cf-notfound" in html
    assert "Input reduction keeps the target as the top-1, and &lt;b&gt; is not." in html
    flip_free = WhatIf(hotflip(), None, "Nothing <here>.", None, "There is nothing to flip.")
    assert "There is nothing to flip." in draw.flip_html(flip_free)


def test_a_failure_is_one_escaped_sentence():
    html = draw.failed_html("Model 'no/<b>x</b>' is not available.")
    assert "<b>x" not in html and "&lt;b&gt;x" in html and html.count("\n") == 0
    assert 'class="ww-error' in html
