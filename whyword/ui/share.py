"""The page's whole state as a URL query string, and back. Pure: no gradio, no model.

A share link is `?text=...&model=...&target=...` on the page's own address. Its names, defaults,
ranges and how each value is read all come from the controls' one definition (query.py), so a
new control is in the links without a line here. Decoding is lenient because links are edited
by hand, and says what it changed (`decode_with_changes`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlencode

from whyword.errors import shown
from whyword.ui.query import CONTROLS, PAGE_BOUNDS, Bounds, Query

__all__ = [
    "KNOWN_KEYS",
    "PAGE_BOUNDS",
    "TOKEN_ID",
    "Bounds",
    "Query",
    "decode",
    "decode_with_changes",
    "encode",
    "parse_target",
    "token_ref",
]

# a token id ("id:3681"); out of range: the core says so
TOKEN_ID = re.compile(r"^id:(-?\d{1,30})$")
KNOWN_KEYS = frozenset(c.key for c in CONTROLS)
# The other views' own parameters (views/__init__.py): `tab`, and each view's prefixed keys
# (Sequence seq_, Evidence ev_, Layers layers_, Chat chat_). Theirs to read, not the Explain
# view's to judge.
VIEW_KEYS = ("tab",)
VIEW_PREFIXES = ("seq_", "ev_", "layers_", "chat_")
MAX_UNKNOWN_SAID = 5  # unknown keys named one by one; the rest are counted


def parse_target(value: str | None) -> int | str | None:
    """What `explain` takes: None for top-1, an int for "id:123", else the word itself."""
    value = (value or "").strip("\n")
    if not value.strip():
        return None
    match = TOKEN_ID.match(value.strip())
    return int(match.group(1)) if match else value


def token_ref(token_id: int) -> str:
    return f"id:{int(token_id)}"


def encode(query: Query) -> str:
    """The query string (without "?") that reproduces `query`: the view's identity always,
    then the other settings that differ from their defaults."""
    pairs = [(c.key, c.kind.write(getattr(query, c.key))) for c in CONTROLS if c.always]
    pairs += [
        (c.key, c.kind.write(getattr(query, c.key)))
        for c in CONTROLS
        if not c.always and getattr(query, c.key) != c.default
    ]
    return urlencode(pairs)


def decode(params: Mapping[str, str], bounds: Bounds = PAGE_BOUNDS) -> Query:
    """A Query from query parameters (lenient: see `decode_with_changes`)."""
    return decode_with_changes(params, bounds)[0]


def decode_with_changes(
    params: Mapping[str, str], bounds: Bounds = PAGE_BOUNDS
) -> tuple[Query, tuple[str, ...]]:
    """A Query from query parameters, and one sentence per value it could not take as written:
    unknown keys are ignored, numbers outside the page's range are moved to its nearest end,
    unreadable values and unknown names fall back to the default. A missing key: the default."""
    # gradio's own (?__theme=dark) are not ours to judge
    unknown = sorted(
        str(key)
        for key in set(params) - KNOWN_KEYS
        if not str(key).startswith("__")
        and str(key) not in VIEW_KEYS
        and not str(key).startswith(VIEW_PREFIXES)
    )
    changes = [f"{shown(key, quoted=False)}: not a WhyWord setting, ignored." for key in unknown]
    if len(changes) > MAX_UNKNOWN_SAID:
        more = len(changes) - MAX_UNKNOWN_SAID
        changes[MAX_UNKNOWN_SAID:] = [f"… and {more:,} more that are not WhyWord settings."]
    values = {}
    for c in CONTROLS:  # in the definition's order, so the changes are listed in that order
        if c.key in params:
            span = getattr(bounds, c.key, None)
            values[c.key] = c.kind.parse(c.key, str(params[c.key]), c.default, span, changes)
    return Query(**values), tuple(changes)
