"""The share-link loaders fuzzed: the Explain view's (whyword.ui.share), the Sequence view's
(sequence_link.read_link), the Evidence view's (evidence_handlers.from_params) and the Chat
view's (chat_handlers.from_params). A link is
edited by hand, so any query string must give a view within the page's ranges, with at most a
few bounded sentences saying what was changed; never an exception."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.integration.fuzz import strategies as s
from tests.integration.fuzz.kit import FAST, assert_sentence
from whyword.ui.query import CONTROLS, PAGE_BOUNDS
from whyword.ui.sequence_link import MAX_IDS, read_link
from whyword.ui.share import decode_with_changes, encode
from whyword.ui.views import chat_handlers as chat
from whyword.ui.views.evidence_handlers import from_params

KEYS = [c.key for c in CONTROLS]
SEQUENCE = ["tab", "seq_text", "seq_ids", "seq_temperature", "seq_top_k", "seq_top_p", "seq_seed"]
CHAT = [
    "chat_system", "chat_user", "chat_reply", "chat_span", "chat_foil", "chat_methods",
    "chat_level", "chat_new", "chat_strategy", "chat_seed", "model",
]  # fmt: skip
EVIDENCE = ["ev_query", "ev_corpus", "ev_passages", "ev_k", "ev_temperature", "ev_target"]
VALUE = st.one_of(
    s.TEXT,
    s.NUMBER.map(lambda v: v if isinstance(v, str) else repr(v) if isinstance(v, float) else "7"),
    st.sampled_from(["id:5", "id:-1", "id:²", "id:" + "9" * 40, "1,2,x,²,٣", "sequence", "1e999"]),
)


def links(keys: list[str]) -> st.SearchStrategy:
    known = st.dictionaries(st.sampled_from(keys), VALUE, max_size=len(keys))
    unknown = st.dictionaries(st.text(s.CHAR, max_size=80), VALUE, max_size=3)
    return st.tuples(known, unknown).map(lambda pair: {**pair[1], **pair[0]})


@settings(FAST, max_examples=40)
@given(params=links(KEYS))
def test_explain_links(params) -> None:
    query, changes = decode_with_changes(params)
    assert len(changes) <= len(KEYS) + 6  # one per control at most, five unknown keys named
    for change in changes:
        assert_sentence(change, list(params.values()) + list(params))
    for c in CONTROLS:
        span = getattr(PAGE_BOUNDS, c.key, None)
        value = getattr(query, c.key)
        if span is not None:
            assert span[0] <= value <= span[1] and math.isfinite(value), (c.key, value)
    assert decode_with_changes(dict(_pairs(encode(query))))[0] == query  # its own link is exact


def _pairs(link: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(link, keep_blank_values=True)


@settings(FAST, max_examples=40)
@given(params=links(SEQUENCE).map(lambda p: {**p, "tab": "sequence"}))
def test_sequence_links(params) -> None:
    values = read_link(params)
    assert values is not None and len(values.ids) <= MAX_IDS
    assert all(isinstance(i, int) and i >= 0 for i in values.ids)
    assert 0.05 <= values.temperature <= 3.0 and 0 <= values.top_k <= 100
    assert 0.05 <= values.top_p <= 1.0 and 0 <= values.seed <= 2**31 - 1


@settings(FAST, max_examples=40)
@given(params=links(EVIDENCE))
def test_evidence_links(params) -> None:
    req = from_params(params, 5, 0.1)
    if req is None:
        assert not params.get("ev_query")
        return
    assert 1 <= req.k <= 20 and 0.001 <= req.temperature <= 100
    assert req.target is None or (isinstance(req.target, int) and req.target >= 0)


@settings(FAST, max_examples=40)
@given(params=links(CHAT).map(lambda p: {**p, "tab": "chat"}))
def test_chat_links(params) -> None:
    req = chat.from_params(params)
    if req is None:
        assert not params.get("chat_user")
        return
    assert 1 <= req.max_new_tokens <= chat.MAX_NEW and 0 <= req.seed <= 2**31 - 1
    assert req.methods and set(req.methods) <= set(chat.METHOD_CHOICES)
    assert req.level in chat.LEVELS and req.strategy in chat.STRATEGIES
    assert chat.from_params(dict(_pairs(chat.share_link(req)[1:]))) == req  # its own link is exact
