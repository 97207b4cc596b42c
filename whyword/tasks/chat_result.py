"""What `chat` returns (`ChatResult`) and what explaining a span of its reply returns
(`ChatExplanation`): frozen, self-checking, each token with its role.

A span's row is a `SpanTarget` output of the one engine's attribution matrix (every method
works on it); the chat's template tokens are held at their real embedding (IG's baseline
keeps them, faithfulness never removes them) and left out of every message and sentence
score: they are the template's, never words the user or the assistant wrote.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from whyword.engine.outputs import SpanTarget
from whyword.errors import InputError
from whyword.results.matrix import AttributionMatrix
from whyword.runtime.options import DEFAULT_METHODS
from whyword.tasks.generate import Generation
from whyword.text.chat import ROLES, TEMPLATE, Message, sentences, unit_scores
from whyword.text.tokens import Token

TEMPLATE_NOTE = (
    "The chat template's tokens (turn markers, role names, text the template adds) are held "
    "at their real embedding and left out of the message and sentence scores: they are never "
    "attributed as words."
)
FREE_NOTE = (
    "The chat template's tokens are not held (hold_template=False): IG and the faithfulness "
    "curves vary them like any token; they are still left out of the message and sentence "
    "scores."
)


@dataclass(frozen=True)
class ChatResult:
    """A conversation rendered with its model's chat template, and the assistant's reply."""

    model: str
    messages: tuple[Message, ...]
    text: str  # the rendered template followed by the reply
    tokens: tuple[Token, ...]  # the conversation's then the reply's
    roles: tuple[str, ...]  # per token: template | system | user | assistant
    owners: tuple[int | None, ...]  # per token: its message (len(messages): the reply); None
    prompt_length: int  # tokens of the rendered conversation (the reply follows)
    reply: str  # as typed, or as generated (special tokens left out)
    units: tuple[tuple[int, int], ...]  # characters of each message, then of the reply
    token_spans: tuple[tuple[int, int] | None, ...]  # each token's characters in `text`
    generation: Generation | None = None  # the transition table when the reply was generated

    def __post_init__(self) -> None:
        t = len(self.tokens)
        assert len(self.roles) == len(self.owners) == len(self.token_spans) == t
        assert 0 < self.prompt_length < t, "a conversation and a reply"
        assert len(self.units) == len(self.messages) + 1, "one unit per message, then the reply"
        assert all(r in (TEMPLATE, *ROLES) for r in self.roles)
        assert all((o is None) == (r == TEMPLATE) for o, r in zip(self.owners, self.roles, strict=True))
        assert all(o is None or o == len(self.messages) for o in self.owners[self.prompt_length :])

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(t.id for t in self.tokens)

    @property
    def reply_ids(self) -> tuple[int, ...]:
        return self.ids[self.prompt_length :]

    @property
    def template_positions(self) -> tuple[int, ...]:
        """The tokens the template made: held, never attributed as words."""
        return tuple(k for k, r in enumerate(self.roles) if r == TEMPLATE)

    @property
    def unit_labels(self) -> tuple[str, ...]:
        """Each message's label ("system", "user 1", ...), then "reply"."""
        seen: dict[str, int] = {}
        out = []
        for m in self.messages:
            seen[m.role] = seen.get(m.role, 0) + 1
            several = sum(x.role == m.role for x in self.messages) > 1
            out.append(f"{m.role} {seen[m.role]}" if several else m.role)
        return (*out, "reply")

    def span(self, span: str | tuple[int, int] | None = None) -> tuple[int, int]:
        """The positions [start, end) of a span of the reply: None — the whole answer (its
        assistant tokens, an end-of-turn token left out); (a, b) — reply tokens a..b−1; a
        string — the tokens its first occurrence in the reply overlaps."""
        p, n = self.prompt_length, len(self.tokens)
        if span is None:
            mine = [k for k in range(p, n) if self.roles[k] == "assistant"]
            if not mine:
                raise InputError("The reply has no words to explain (only template tokens).")
            return mine[0], mine[-1] + 1
        if isinstance(span, str):
            start = self.units[-1][0]
            at = self.text.find(span, start) if span else -1
            if at < 0:
                raise InputError(f"{span!r} is not in the reply.")
            hit = [
                k for k in range(p, n)
                if (s := self.token_spans[k]) is not None and s[0] < at + len(span) and at < s[1]
            ]
            if not hit:
                raise InputError(f"No token of the reply holds {span!r}.")
            return hit[0], hit[-1] + 1
        try:
            a, b = (int(v) for v in span)
        except (TypeError, ValueError):
            raise InputError("A span is a phrase of the reply or (first, end) token indices.") from None
        if not 0 <= a < b <= n - p:
            raise InputError(f"The span {a}:{b} is not inside the reply's {n - p} tokens.")
        return p + a, p + b

    def explain(
        self,
        span: str | tuple[int, int] | None = None,
        foil: str | Sequence[int] | None = None,
        methods: Sequence[str] | str = DEFAULT_METHODS,
        mean: bool = False,
        model=None,
        hold_template: bool = True,
        **options,
    ) -> ChatExplanation:
        """Attribute a span of the reply (`span`: see `ChatResult.span`) to the conversation:
        F = Σ log p of its tokens teacher-forced (`mean=True`: per token), or, with `foil`
        (text, tokenized as typed, or ids), F = target − foil read from the span's start.
        `model`: the model that made this chat (default: the default model).
        `hold_template=False` lets IG and the faithfulness curves vary the template's tokens."""
        from whyword.models.load import load_model
        from whyword.tasks.attribute import attribute

        lm = load_model(model)
        if lm.name != self.model:
            raise InputError(
                f"This chat came from '{self.model}', not '{lm.name}': pass the model that "
                "made it (model=...)."
            )
        start, end = self.span(span)
        foil_ids = None
        if isinstance(foil, str):
            foil_ids = tuple(lm.tokenizer(foil, add_special_tokens=False)["input_ids"])
            if not foil_ids:
                raise InputError("The foil is empty: type an alternative or leave it out.")
        elif foil is not None:
            foil_ids = tuple(int(i) for i in foil)
        target = SpanTarget(start, end, foil_ids, mean)
        held = self.template_positions if hold_template else ()
        matrix = attribute(lm, self.ids, target, methods, held=held, **options)
        return ChatExplanation(self, matrix, start, end, TEMPLATE_NOTE if held else FREE_NOTE)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["generation"] = None if self.generation is None else self.generation.to_dict()
        return data


@dataclass(frozen=True)
class UnitScore:
    """One message's or sentence's score for one method (template tokens left out)."""

    label: str  # "user", "system", "reply", or the sentence as typed
    role: str  # system | user | assistant
    score: float  # NaN: none of its tokens is in the span's context


@dataclass(frozen=True)
class ChatExplanation:
    """A span of a chat's reply explained: the matrix (one row: the span) and its scores
    per message and per sentence."""

    chat: ChatResult
    matrix: AttributionMatrix
    start: int  # the span's tokens [start, end) in `chat.tokens`
    end: int
    note: str = TEMPLATE_NOTE

    def __post_init__(self) -> None:
        assert self.chat.prompt_length <= self.start < self.end <= len(self.chat.tokens)
        assert self.matrix.shape == (1, len(self.chat.tokens)), "one row: the span"

    @property
    def span_text(self) -> str:
        return self.matrix.outputs[0].target

    @property
    def value(self) -> float:
        """F at the real input: Σ log p of the span (or its mean, or the contrast)."""
        return self.matrix.outputs[0].value

    def token_scores(self, method: str) -> tuple[float, ...]:
        return self.matrix.method(method).scores[0]

    def messages(self, method: str) -> tuple[UnitScore, ...]:
        """Per message, then the reply before the span's end: the method's scores of its
        tokens (signed summed, saliency as the L2 norm), template tokens left out."""
        m = self.matrix.method(method)
        chat = self.chat
        n = len(chat.units)
        values = unit_scores(m.scores, chat.owners, n, m.signed)[0]  # (U,)
        roles = (*(msg.role for msg in chat.messages), "assistant")
        return tuple(
            UnitScore(label, role, float(v))
            for label, role, v in zip(chat.unit_labels, roles, values, strict=True)
        )

    def sentences(self, method: str) -> tuple[UnitScore, ...]:
        """Per sentence of every message and of the reply, template tokens left out."""
        m = self.matrix.method(method)
        chat = self.chat
        found = sentences(chat.text, chat.units, chat.token_spans, chat.owners)
        values = unit_scores(m.scores, found.owners, len(found.labels), m.signed)[0]  # (S,)
        roles = (*(msg.role for msg in chat.messages), "assistant")
        return tuple(
            UnitScore(label, roles[u], float(v))
            for label, u, v in zip(found.labels, found.message, values, strict=True)
        )

    def to_dict(self) -> dict[str, Any]:
        methods = [m.method for m in self.matrix.methods]
        return {
            "chat": self.chat.to_dict(),
            "span": [self.start, self.end],
            "span_text": self.span_text,
            "value": self.value,
            "attribution": self.matrix.to_dict(),
            "messages": {m: [_unit(u) for u in self.messages(m)] for m in methods},
            "sentences": {m: [_unit(u) for u in self.sentences(m)] for m in methods},
            "note": self.note,
        }

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)


def _unit(u: UnitScore) -> dict[str, Any]:
    score = None if u.score != u.score else u.score  # JSON has no NaN
    return {"label": u.label, "role": u.role, "score": score}
