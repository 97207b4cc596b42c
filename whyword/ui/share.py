"""The page's whole state as a URL query string, and back. Pure: no gradio, no model.

A share link is `?text=...&model=...&target=...` on the page's own address; decoding is
lenient because links are edited by hand, and says what it changed (`decode_with_changes`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any
from urllib.parse import urlencode

from whyword.attr import METHODS
from whyword.options import BASELINES, PAGE_MAX_STEPS, PAGE_METHODS, ExplainOptions

NORMALISATIONS = ("per_method", "shared", "none")
LEVELS = ("token", "word")  # what a heatmap chip is
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
    methods: tuple[str, ...] = PAGE_METHODS  # options.py says why
    steps: int = _LIBRARY.n_steps  # IG: gradient evaluations of the first pass
    max_steps: int = PAGE_MAX_STEPS  # IG: adaptive refinement budget (≤ steps: no refinement)
    baseline: str = _LIBRARY.baseline
    k: int = _LIBRARY.k
    mask: int = 0  # which [MASK] (0-based) is explained
    samples: int = _LIBRARY.nt_samples  # SmoothGrad samples
    noise: float = _LIBRARY.noise  # SmoothGrad noise, fraction of the embeddings' stdev
    special: bool = False  # special tokens count in the colour scale
    normalise: str = "per_method"
    level: str = "token"  # the heatmaps per token or per word (the core's segments)
    numbers: bool = False  # each chip shows its score on it (for a class)
    presenter: bool = False  # large type, results first, settings tucked away (a projector)

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
ADVANCED_KEYS = (
    "max_steps", "samples", "noise", "special", "normalise", "level", "numbers", "presenter"
)  # fmt: skip
FLAGS = tuple(f.name for f in fields(Query) if isinstance(f.default, bool))  # on: 1/true/yes/on


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


@dataclass(frozen=True)
class Bounds:
    """The ranges of the page's controls (its sliders' ends): a link outside them is changed
    to fit, and the page says so."""

    k: tuple[int, int] = (1, 30)
    steps: tuple[int, int] = (4, 256)
    max_steps: tuple[int, int] = (0, 512)
    samples: tuple[int, int] = (1, 50)
    mask: tuple[int, int] = (0, 100_000)
    noise: tuple[float, float] = (0.0, 1.0)


PAGE_BOUNDS = Bounds()


def page_bounds(max_k: int, max_steps: int, max_samples: int) -> Bounds:
    """The page's ranges under a server's limits (hosted servers allow less)."""
    return Bounds(
        k=(1, min(30, max_k)),
        steps=(4, min(256, max_steps)),
        max_steps=(0, min(512, max_steps)),
        samples=(1, min(50, max_samples)),
    )


KNOWN_KEYS = frozenset(f.name for f in fields(Query))


def decode(params: Mapping[str, str], bounds: Bounds = PAGE_BOUNDS) -> Query:
    """A Query from query parameters (lenient: see `decode_with_changes`)."""
    return decode_with_changes(params, bounds)[0]


def decode_with_changes(
    params: Mapping[str, str], bounds: Bounds = PAGE_BOUNDS
) -> tuple[Query, tuple[str, ...]]:
    """A Query from query parameters, and one sentence per value it could not take as written:
    unknown keys are ignored, numbers outside the page's range are moved to its nearest end,
    unreadable values and unknown names fall back to the default."""
    default = Query()
    values: dict[str, Any] = {}
    changes: list[str] = []
    for key in sorted(set(params) - KNOWN_KEYS):
        if not key.startswith("__"):  # gradio's own (?__theme=dark) are not ours to judge
            changes.append(f"{key}: not a WhyWord setting, ignored.")
    for key in ("text", "model", "target", "foil"):
        if key in params:
            values[key] = str(params[key])[:20_000]
    values["model"] = values.get("model", "").strip() or default.model
    if "methods" in params:
        names = [m.strip() for m in str(params["methods"]).split(",") if m.strip()]
        known = tuple(dict.fromkeys(m for m in names if m in METHODS))
        unknown = [m for m in names if m not in METHODS]
        values["methods"] = known or PAGE_METHODS
        if unknown:
            kept = "" if known else f"; using the default {', '.join(PAGE_METHODS)}"
            changes.append(
                f"methods: no method called {', '.join(unknown)} (known: {', '.join(METHODS)})"
                f"{kept}."
            )
    for key in ("steps", "max_steps", "k", "mask", "samples", "noise"):
        if key in params:
            values[key] = _number(key, params[key], getattr(default, key), bounds, changes)
    for key in FLAGS:
        values[key] = str(params.get(key, "")).lower() in ("1", "true", "yes", "on")
    for key, allowed in (
        ("baseline", BASELINES),
        ("normalise", NORMALISATIONS),
        ("level", LEVELS),
    ):
        raw = str(params.get(key, getattr(default, key)))
        values[key] = raw if raw in allowed else getattr(default, key)
        if raw not in allowed:
            changes.append(
                f"{key}={raw}: not one of {', '.join(allowed)}; using {getattr(default, key)}."
            )
    return Query(**values), tuple(changes)


def _number(key: str, raw: Any, default: Any, bounds: Bounds, changes: list[str]) -> Any:
    """One number from a link, moved into the page's range (and the change noted)."""
    low, high = getattr(bounds, key)
    kind = float if isinstance(default, float) else int
    try:
        value = kind(str(raw).strip())
    except (TypeError, ValueError):
        changes.append(f"{key}={raw}: not a {_kind_name(kind)}; using the default {default}.")
        return default
    if not math.isfinite(value):
        changes.append(f"{key}={raw}: not a {_kind_name(kind)}; using the default {default}.")
        return default
    if value > high:
        changes.append(f"{key}={raw}: more than this page allows; using {high}.")
        return high
    if value < low:
        changes.append(f"{key}={raw}: less than {low}; using {low}.")
        return low
    return value


def _kind_name(kind: type) -> str:
    return "number" if kind is float else "whole number"


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple | list):
        return ",".join(value)
    return str(value)
