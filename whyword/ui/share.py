"""The page's whole state as a URL query string, and back. Pure: no gradio, no model.

A share link is `?text=...&model=...&target=...` on the page's own address; decoding is
lenient (a bad number falls back to its default) because links are edited by hand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any
from urllib.parse import urlencode

from whyword.attr import METHODS
from whyword.options import BASELINES, DEFAULT_METHODS, PAGE_MAX_STEPS, ExplainOptions

NORMALISATIONS = ("per_method", "shared", "none")
# a token id ("id:3681"); out of range: the core says so
TOKEN_ID = re.compile(r"^id:(-?\d{1,30})$")


_LIBRARY = ExplainOptions()  # every default the page shares with the library, defined there


@dataclass(frozen=True)
class Query:
    """Everything the page needs to reproduce one view."""

    text: str = ""
    model: str = "default"
    target: str = ""  # "" = top-1, "id:<token id>", or a word / token text
    foil: str = ""  # "" = no foil (plain log p(target))
    methods: tuple[str, ...] = DEFAULT_METHODS
    steps: int = _LIBRARY.n_steps  # IG: gradient evaluations of the first pass
    max_steps: int = PAGE_MAX_STEPS  # IG: adaptive refinement budget (≤ steps: no refinement)
    baseline: str = _LIBRARY.baseline
    k: int = _LIBRARY.k
    mask: int = 0  # which [MASK] (0-based) is explained
    samples: int = _LIBRARY.nt_samples  # SmoothGrad samples
    noise: float = _LIBRARY.noise  # SmoothGrad noise, fraction of the embeddings' stdev
    special: bool = False  # special tokens count in the colour scale
    normalise: str = "per_method"

    def with_(self, **changes: Any) -> Query:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["methods"] = list(self.methods)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Query:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "methods" in values:
            values["methods"] = tuple(values["methods"])
        return cls(**values)


# Always written (the view's identity); the advanced knobs only when they differ from defaults.
CORE_KEYS = ("text", "model", "target", "foil", "methods", "steps", "baseline", "k", "mask")
ADVANCED_KEYS = ("max_steps", "samples", "noise", "special", "normalise")


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
    """The query string (without "?") that reproduces `query`."""
    default = Query()
    pairs: list[tuple[str, str]] = []
    for key in CORE_KEYS + ADVANCED_KEYS:
        value = getattr(query, key)
        if key in ADVANCED_KEYS and value == getattr(default, key):
            continue
        pairs.append((key, _to_text(value)))
    return urlencode(pairs)


def decode(params: Mapping[str, str]) -> Query:
    """A Query from query parameters; unknown keys are ignored, bad values become defaults."""
    default = Query()
    values: dict[str, Any] = {}
    for key in ("text", "model", "target", "foil"):
        if key in params:
            values[key] = str(params[key])[:20_000]
    values["model"] = values.get("model", "").strip() or default.model
    if "methods" in params:
        names = [m.strip() for m in str(params["methods"]).split(",")]
        values["methods"] = (
            tuple(dict.fromkeys(m for m in names if m in METHODS)) or DEFAULT_METHODS
        )
    for key in ("steps", "max_steps", "k", "mask", "samples"):
        values[key] = _int(
            params.get(key), getattr(default, key), low=0 if key in ("mask", "max_steps") else 1
        )
    values["noise"] = _float(params.get("noise"), default.noise)
    values["special"] = str(params.get("special", "")).lower() in ("1", "true", "yes", "on")
    baseline = str(params.get("baseline", default.baseline))
    values["baseline"] = baseline if baseline in BASELINES else default.baseline
    normalise = str(params.get("normalise", default.normalise))
    values["normalise"] = normalise if normalise in NORMALISATIONS else default.normalise
    return Query(**values)


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple | list):
        return ",".join(value)
    return str(value)


def _int(raw: Any, default: int, low: int) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return default
    return value if low <= value <= 100_000 else default


def _float(raw: Any, default: float) -> float:
    try:
        value = float(str(raw).strip())
    except (TypeError, ValueError):
        return default
    return value if 0.0 <= value <= 10.0 else default
