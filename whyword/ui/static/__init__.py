"""The page's CSS, scripts and <head> snippet, as files (package data, shipped in the wheel)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent


@cache
def read(name: str) -> str:
    """The text of static file `name` (e.g. "style.css")."""
    return (HERE / name).read_text(encoding="utf-8")


def script(name: str) -> str:
    """The JavaScript function in `name`.js (an event's `js=`, or the page's `js`)."""
    return read(f"{name}.js")
