"""A conversation's messages as segments of the rendered chat template.

A chat model reads its messages through its tokenizer's chat template: role headers, turn
markers and sometimes text the template adds on its own (SmolLM2's default system prompt
when there is none). Which characters of the rendered text belong to which message is found
by rendering it again with that one message's content left empty: what the two renders do
not share is the content (`content_spans`). That asks the template itself, so it works for any
template, also one that trims, reorders or injects text, without knowing its syntax; looking
the content up with `str.find` would be fooled by text the template repeats or changes, and
`return_assistant_tokens_mask` needs `{% generation %}` markers that few templates have
(SmolLM2's has none). Each token then takes the role of the message its characters overlap
(`token_roles`, character spans from `whyword.text.offsets.locate`); a token with no
message characters — a turn marker, a role name, a newline the template adds, a special
token — is a *template* token, never attributed as a word.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from whyword.errors import InputError

ROLES = ("system", "user", "assistant")
TEMPLATE = "template"  # the role of a token the template made, not a message


@dataclass(frozen=True)
class Message:
    """One turn of a conversation, as typed."""

    role: str  # system | user | assistant
    content: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise InputError(
                f"A message's role must be one of {', '.join(ROLES)}, not {self.role!r}."
            )
        if not isinstance(self.content, str):
            raise InputError(f"A {self.role} message's content must be text.")

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


def messages_of(messages) -> tuple[Message, ...]:
    """`Message`s from Messages or {"role", "content"} dicts; one sentence on anything else."""
    if isinstance(messages, (str, Message, dict)):
        messages = [messages]
    out = []
    for m in messages or ():
        if isinstance(m, Message):
            out.append(m)
        elif isinstance(m, dict) and set(m) >= {"role", "content"}:
            out.append(Message(m["role"], m["content"]))
        elif isinstance(m, str):
            raise InputError("A message is {'role': ..., 'content': ...}, not a bare string.")
        else:
            raise InputError(f"A message is {{'role': ..., 'content': ...}}, got {m!r}.")
    if not out:
        raise InputError("A chat needs at least one message.")
    if not any(m.role == "user" for m in out):
        raise InputError("A chat needs at least one user message.")
    return tuple(out)


def content_spans(
    render: Callable[[Sequence[Message]], str], messages: Sequence[Message]
) -> tuple[tuple[int, int], ...]:
    """Each message's (start, end) characters in `render(messages)`: the stretch that changes
    when its content is emptied (the common prefix and suffix of the two renders are the
    template's). An empty message, or one the template drops, gets an empty span."""
    full = render(messages)
    spans = []
    for i in range(len(messages)):
        emptied = [Message(m.role, "") if j == i else m for j, m in enumerate(messages)]
        other = render(emptied)
        head = _common_prefix(full, other)
        room = min(len(full), len(other)) - head  # the suffix may not overlap the prefix
        tail = _common_prefix(full[::-1][:room], other[::-1][:room])
        spans.append((head, max(head, len(full) - tail)))
    for (a, b), (c, _) in zip(spans, spans[1:], strict=False):
        if b > c and a < b:
            raise InputError(
                "The chat template places messages out of order; WhyWord cannot tell them apart."
            )
    return tuple(spans)


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def token_roles(
    token_spans: Sequence[tuple[int, int] | None],
    special: Sequence[bool],
    messages: Sequence[Message],
    spans: Sequence[tuple[int, int]],
    reply_from: int,
) -> tuple[tuple[str, ...], tuple[int | None, ...]]:
    """Per token: its role and the index of its message (None: a template token).

    `token_spans`: each token's characters in the full text (None: none there); `spans`: each
    message's characters; characters from `reply_from` on are the reply (message index
    len(messages)). A special token is always a template token."""
    roles, owners = [], []
    for span, is_special in zip(token_spans, special, strict=True):
        owner = None
        if span is not None and span[0] < span[1] and not is_special:
            a, b = span
            if a >= reply_from:
                owner = len(messages)
            else:
                owner = next((k for k, (s, e) in enumerate(spans) if a < e and s < b), None)
        owners.append(owner)
        roles.append(
            TEMPLATE if owner is None else "assistant" if owner == len(messages)
            else messages[owner].role
        )
    return tuple(roles), tuple(owners)


def unit_scores(scores, owners: Sequence[int | None], n_units: int, signed: bool) -> np.ndarray:
    """Token scores (R, T) → per unit (R, n_units): the tokens owned by each unit (template
    tokens, owner None, left out). Signed: summed; unsigned (saliency norms): the L2 norm, as
    `whyword.text.segments.aggregate`. NaN where a unit has no token in the row's context."""
    values = np.atleast_2d(np.asarray(scores, dtype=np.float64))  # (R, T)
    assert values.shape[1] == len(owners), "one owner per token"
    out = np.full((values.shape[0], n_units), np.nan)  # (R, U)
    for u in range(n_units):
        cols = [k for k, o in enumerate(owners) if o == u]
        if not cols:
            continue
        part = values[:, cols]  # (R, n)
        present = ~np.isnan(part)  # (R, n)
        terms = np.where(present, part if signed else part**2, 0.0).sum(-1)  # (R,)
        found = present.any(-1)  # (R,)
        out[:, u] = np.where(found, terms if signed else np.sqrt(terms), np.nan)
    return out


@dataclass(frozen=True)
class Sentences:
    """The sentences of every message (and the reply): labels, their message, and per token
    the sentence it belongs to (None: a template token)."""

    labels: tuple[str, ...]
    message: tuple[int, ...]  # per sentence: the index of its message (len(messages): reply)
    owners: tuple[int | None, ...]  # per token

    def __post_init__(self) -> None:
        assert len(self.labels) == len(self.message)
        assert all(o is None or 0 <= o < len(self.labels) for o in self.owners)


def sentences(
    text: str,
    units: Sequence[tuple[int, int]],
    token_spans: Sequence[tuple[int, int] | None],
    owners: Sequence[int | None],
) -> Sentences:
    """Split each unit (a message's content span in `text`) into sentences, by the rule of
    `whyword.text.segments` (`.`, `!`, `?`, `…` then a space, or a blank line); each token of a
    unit joins the sentence its characters overlap, a whitespace-only token the next one."""
    from whyword.text.segments import _units

    found: list[tuple[int, int, int]] = []  # (message, start, end) in text
    for u, (a, b) in enumerate(units):
        found += [(u, a + s, a + e) for s, e in _units(text[a:b], "sentence", None)]
    per_token: list[int | None] = []
    for span, owner in zip(token_spans, owners, strict=True):
        if owner is None:
            per_token.append(None)
            continue
        mine = [k for k, (u, _, _) in enumerate(found) if u == owner]
        a, b = span if span is not None else (0, 0)
        hit = next((k for k in mine if found[k][1] < b and a < found[k][2]), None)
        if hit is None:  # whitespace: the next sentence of its message, else the last
            hit = next((k for k in mine if found[k][1] >= b), mine[-1] if mine else None)
        per_token.append(hit)
    return Sentences(
        tuple(text[s:e] for _, s, e in found), tuple(u for u, _, _ in found), tuple(per_token)
    )
