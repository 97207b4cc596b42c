"""The kinds of value a page setting holds, and how each kind is read: from a share link's text
(leniently, saying what it changed), from its widget, and written back into a link.

query.py gives every control one of these; share.py and `Controls` only call them. Pure: no
gradio, no model.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from whyword.attr import METHODS
from whyword.errors import shown

MAX_TEXT = 20_000  # characters of a link's text kept (the server's own limits check the rest)
Span = tuple[float, float]  # a number's range: the slider's two ends
# (key, text in the link, default, span or None, changes) -> the value; notes each change made
Parse = Callable[[str, str, Any, "Span | None", list[str]], Any]


@dataclass(frozen=True)
class Kind:
    """How one kind of setting is read from a share link (`parse`), read from its widget's
    value (`read(value, default)`) and written into a link (`write`); `choices`: the values a
    choice allows."""

    parse: Parse
    read: Callable[[Any, Any], Any]
    write: Callable[[Any], str] = str
    choices: tuple[str, ...] = ()


def _text(key: str, raw: str, default: Any, span: Span | None, changes: list[str]) -> str:
    return raw[:MAX_TEXT]


def _name(key: str, raw: str, default: Any, span: Span | None, changes: list[str]) -> str:
    return raw[:MAX_TEXT].strip() or default


def _methods(key: str, raw: str, default: Any, span: Span | None, changes: list[str]) -> tuple:
    names = [m.strip() for m in raw.split(",") if m.strip()]
    known = tuple(dict.fromkeys(m for m in names if m in METHODS))
    unknown = [m for m in names if m not in METHODS]
    if unknown:
        kept = "" if known else f"; using the default {', '.join(default)}"
        changes.append(
            f"{key}: no method called {shown(', '.join(unknown), quoted=False)} "
            f"(known: {', '.join(METHODS)}){kept}."
        )
    return known or default


def _flag(key: str, raw: str, default: Any, span: Span | None, changes: list[str]) -> bool:
    return raw.lower() in ("1", "true", "yes", "on")


def _number(kind: type) -> Parse:
    """A whole number (`int`) or a number (`float`), moved into its span (and the move noted)."""
    name = "number" if kind is float else "whole number"

    def parse(key: str, raw: str, default: Any, span: Span | None, changes: list[str]) -> Any:
        try:
            value = kind(raw.strip())
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value):
            changes.append(
                f"{key}={shown(raw, quoted=False)}: not a {name}; using the default {default}."
            )
            return default
        low, high = span if span is not None else (-math.inf, math.inf)
        if value > high:
            changes.append(
                f"{key}={shown(raw, quoted=False)}: more than this page allows; using {high}."
            )
            return high
        if value < low:
            changes.append(f"{key}={shown(raw, quoted=False)}: less than {low}; using {low}.")
            return low
        return value

    return parse


def _number_read(kind: type) -> Callable[[Any, Any], Any]:
    return lambda value, default: default if value is None or value == "" else kind(value)


def choice(allowed: tuple[str, ...]) -> Kind:
    """One of `allowed` (anything else: the default, and the page says so)."""

    def parse(key: str, raw: str, default: Any, span: Span | None, changes: list[str]) -> str:
        if raw in allowed:
            return raw
        changes.append(
            f"{key}={shown(raw, quoted=False)}: not one of {', '.join(allowed)}; using {default}."
        )
        return default

    return Kind(parse, lambda value, default: value if value in allowed else default, str, allowed)


def number_in(raw: object) -> int | None:
    """The whole number at the head of what a click or a link wrote ("7042" or "7042:<nonce>"),
    or None: ASCII digits only and at most 18 of them (int() would take "٣" and refuse "²", and
    refuses a number over 4,300 digits)."""
    head = str(raw if raw is not None else "").split(":", 1)[0].strip()
    return int(head) if head.isascii() and head.isdigit() and len(head) <= 18 else None


TEXT = Kind(_text, lambda value, default: value or "")
NAME = Kind(_name, lambda value, default: (value or "").strip() or default)  # blank: default
METHOD_LIST = Kind(_methods, lambda value, default: tuple(value or ()), ",".join)
WHOLE = Kind(_number(int), _number_read(int))
REAL = Kind(_number(float), _number_read(float))
FLAG = Kind(_flag, lambda value, default: bool(value), lambda value: "1" if value else "0")
