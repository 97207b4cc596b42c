"""Messages as segments of a rendered chat template: each message's characters found by
rendering it emptied (a template that injects or trims text included), token roles from
character spans, and per-unit scores with template tokens left out (whyword/text/chat.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from whyword.errors import InputError
from whyword.text.chat import (
    TEMPLATE,
    Message,
    content_spans,
    messages_of,
    sentences,
    token_roles,
    unit_scores,
)

DEFAULT_SYSTEM = "You are helpful."


def render(msgs) -> str:
    """A template like SmolLM2's: a default system prompt when there is none, content trimmed."""
    out = "" if msgs[0].role == "system" else f"<s>system\n{DEFAULT_SYSTEM}</s>\n"
    for m in msgs:
        out += f"<s>{m.role}\n{m.content.strip()}</s>\n"
    return out + "<s>assistant\n"


def test_each_message_is_the_stretch_its_content_changes():
    msgs = messages_of([{"role": "user", "content": "  Hi there. "}, Message("assistant", "Yo")])
    msgs = (*msgs, Message("user", "Why?"))
    text = render(msgs)
    spans = content_spans(render, msgs)
    assert [text[a:b] for a, b in spans] == ["Hi there.", "Yo", "Why?"]  # trimmed as rendered
    assert DEFAULT_SYSTEM in text and all(
        not (a <= text.index(DEFAULT_SYSTEM) < b) for a, b in spans
    ), "the injected system prompt is the template's, not a message"


def test_token_roles_follow_the_characters_and_specials_are_template():
    msgs = (Message("system", "Be brief."), Message("user", "Why?"))
    text = render(msgs)
    spans = content_spans(render, msgs)
    reply_from = len(text)
    text += "Because."
    # hand-made tokens: "<s>", "system\n", "Be", " brief.", "</s>", ..., the reply, an EOS
    cuts = [0, 3, 10, 12, 19, 23, 24, 27, 32, 36, 40, 41]
    cuts += [text.index("<s>assistant"), reply_from, len(text)]
    token_spans = [(a, b) for a, b in zip(cuts, cuts[1:], strict=False)] + [None]
    special = [text[a:b] in ("<s>", "</s>") for a, b in token_spans[:-1]] + [True]
    roles, owners = token_roles(token_spans, special, msgs, spans, reply_from)
    pieces = [text[a:b] if (a, b) != (0, 0) else "" for a, b in token_spans[:-1]]
    by_role = {r: "".join(p for p, q in zip(pieces, roles, strict=False) if q == r) for r in roles}
    assert by_role["system"] == "Be brief." and by_role["user"] == "Why?"
    assert by_role["assistant"] == "Because."
    assert roles[-1] == TEMPLATE and owners[-1] is None  # the EOS
    assert roles[0] == TEMPLATE and roles[1] == TEMPLATE  # "<s>", "system\n"
    assert owners[roles.index("assistant")] == len(msgs)


def test_unit_scores_sum_or_norm_the_owned_tokens_only():
    scores = np.array([[1.0, 2.0, -3.0, 4.0, math.nan]])  # (1, 5)
    owners = (None, 0, 0, 1, 1)
    signed = unit_scores(scores, owners, 3, signed=True)[0]
    assert signed[0] == pytest.approx(-1.0) and signed[1] == pytest.approx(4.0)
    assert math.isnan(signed[2]), "a unit with no token has no score"
    norms = unit_scores(np.abs(scores), owners, 2, signed=False)[0]
    assert norms[0] == pytest.approx(math.sqrt(13.0)) and norms[1] == pytest.approx(4.0)


def test_sentences_split_each_message_and_whitespace_joins_the_next():
    text = "<s>user\nIt rains. Take a coat.</s>"
    unit = (text.index("It"), text.index("</s>"))
    token_spans = [(0, 3), (3, 8), (8, 17), (17, 18), (18, 28), (28, 32)]  # ..., " ", ...
    owners = (None, None, 0, 0, 0, None)
    found = sentences(text, [unit], token_spans, owners)
    assert found.labels == ("It rains.", "Take a coat.") and found.message == (0, 0)
    assert found.owners == (None, None, 0, 1, 1, None)


@pytest.mark.parametrize(
    "bad, match",
    [
        ([], "at least one message"),
        (["hello"], "not a bare string"),
        ([{"role": "robot", "content": "x"}], "role must be one of"),
        ([{"role": "system", "content": "x"}], "at least one user message"),
    ],
)
def test_bad_messages_are_one_sentence(bad, match):
    with pytest.raises(InputError, match=match):
        messages_of(bad)
