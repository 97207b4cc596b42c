"""The Chat tab's pictures from a hand-built conversation (no model): every token and message
escaped, template tokens greyed and never coloured, each message under its role's label, the
span outlined, colours on the words' own scale, the bars per unit (whyword/render/chat.py)."""

from __future__ import annotations

import math

import pytest

from tests.unit.render.hand_built import background, parse, tok, token_spans
from whyword.render import chat as draw
from whyword.render.heatmap import SPECIAL_STYLE, cell_colours

SCRIPT = "<script>alert(1)</script>"
# <|system|>\n  Be  brief  \n<|user|>\n  <script>…  ?  \n<|assistant|>\n  Paris  .  <|end|>
TOKENS = (
    tok(0, "<|system|>\n"), tok(1, "Be"), tok(2, " brief"), tok(3, "\n<|user|>\n"),
    tok(4, SCRIPT), tok(5, "?"), tok(6, "\n<|assistant|>\n"), tok(7, "Paris"), tok(8, "."),
    tok(9, "<|end|>"),
)  # fmt: skip
ROLES = (
    "template", "system", "system", "template", "user", "user", "template", "assistant",
    "assistant", "template",
)  # fmt: skip
OWNERS = (None, 0, 0, None, 1, 1, None, 2, 2, None)
# the template's tokens carry large scores on purpose: they must neither show nor set the scale
SCORES = (9.0, 0.5, -1.0, 9.0, 2.0, 0.25, -9.0, 1.0, math.nan, 0.0)


def picture(**changes) -> draw.ChatPicture:
    values = dict(
        tokens=TOKENS, roles=ROLES, owners=OWNERS, labels=("system", SCRIPT, "reply"),
        scores=SCORES, signed=True, method="occlusion", prompt_length=7, start=7, end=9,
    )  # fmt: skip
    return draw.ChatPicture(**{**values, **changes})


def test_messages_and_tokens_are_escaped_and_labelled_by_role():
    html = draw.conversation_html(picture())
    assert "<script>" not in html and "&lt;script&gt;" in html
    parsed = parse(html)
    assert "script" not in parsed.tags
    roles = [s["text"] for s in parsed.spans if s.get("class") == "ww-chat-role"]
    assert roles == ["system", SCRIPT, "reply"]  # one label where each message starts
    messages = html.count('class="ww-chat-message')
    assert messages == 3 and 'ww-chat-user"' in html and 'ww-chat-assistant"' in html


def test_template_tokens_are_greyed_and_the_scale_is_the_words():
    chips = token_spans(draw.conversation_html(picture()))
    assert len(chips) == len(TOKENS)
    for k in (0, 3, 6, 9):
        assert SPECIAL_STYLE in chips[k]["style"] and "chat template token" in chips[k]["title"]
    assert draw.scale(picture()) == pytest.approx(2.0)  # |user's <script>|, not the template's 9
    full_red, _ = cell_colours(1.0, 1.0, True)
    assert background(chips[4]) == full_red  # 2.0 on a scale of 2.0: the full colour
    half, _ = cell_colours(-1.0, 2.0, True)
    assert background(chips[2]) == half
    assert "not read by the span" in chips[8]["title"]  # NaN: the span's last token


def test_the_span_is_outlined_and_reply_tokens_are_numbered():
    html = draw.conversation_html(picture(start=8, end=9))
    chips = token_spans(html)
    outlined = [k for k, c in enumerate(chips) if draw.SPAN_STYLE in c["style"]]
    assert outlined == [8]
    assert 'data-ww-reply="0"' in html and 'data-ww-reply="2"' in html  # Paris … <|end|>
    assert 'data-ww-reply="-1"' not in html and html.count("data-ww-reply") == 3


def test_a_picture_refuses_a_span_outside_the_reply():
    with pytest.raises(AssertionError):
        picture(start=5, end=8)  # starts in the user's message
    with pytest.raises(AssertionError):
        picture(owners=(0, *OWNERS[1:]))  # a template token cannot belong to a message


def test_the_legend_says_the_span_and_value_escaped():
    line = draw.legend_text(picture(), SCRIPT, -3.25, "Σ log p")
    assert "&lt;script&gt;" in line and "<script>" not in line
    assert "-3.25" in line and "reply tokens 0:2" in line  # FIRST:END, as the span box and "held" in line


class Unit:
    def __init__(self, label, role, score):
        self.label, self.role, self.score = label, role, score


def test_the_bars_one_per_unit_with_nan_said():
    units = [Unit("system", "system", 0.5), Unit(SCRIPT, "user", -1.5), Unit("reply", "assistant", math.nan)]
    figure = draw.units_figure(units, "Per message", signed=True)
    bar = figure.data[0]
    assert list(bar.x) == pytest.approx([0.5, -1.5, 0.0])
    assert bar.text[2] == draw.NAN_TEXT and "<script>" not in bar.y[1]
    assert bar.y[0] == "system" and bar.y[1].startswith("user: &lt;script")
    assert bar.marker.color[0] != bar.marker.color[1]  # raised and lowered: red and blue
