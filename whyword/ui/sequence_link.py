"""The Sequence view's share link: its values in the URL query and back (pure: no gradio, no
model). `sequence_session.from_link` rebuilds the session a link describes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from whyword.ui.params import number_in

PREFIX = "seq_"  # this view's keys in the share link
MAX_IDS = 200  # appended token ids a link keeps (four auto-completes of 50)


def share_query(state: Any, text: str, model: str, t, k, p, seed) -> str:
    """The URL query of this view (`state`: its SeqState or None): tab, model, the typed text
    and the appended ids."""
    data: dict[str, Any] = {"tab": "sequence", "model": model or "default"}
    if text:
        data[PREFIX + "text"] = text
    s = state.session if state else None
    if s is not None and s.appended:
        data[PREFIX + "ids"] = ",".join(map(str, s.appended))
    data.update({PREFIX + "temperature": t, PREFIX + "top_k": int(k or 0), PREFIX + "top_p": p})
    data[PREFIX + "seed"] = int(seed or 0)
    return urlencode(data)


@dataclass(frozen=True)
class LinkValues:
    text: str
    ids: tuple[int, ...]
    temperature: float
    top_k: int
    top_p: float
    seed: int


def read_link(params: dict[str, str]) -> LinkValues | None:
    """This view's values from a share link (None unless `tab=sequence`); bad numbers fall back
    to the defaults, out-of-range ones are clipped to the sliders' ends."""
    if params.get("tab") != "sequence":
        return None

    def number(key: str, default: float, low: float, high: float) -> float:
        try:
            value = float(params.get(PREFIX + key, default))
        except ValueError:
            return default
        return min(high, max(low, value)) if math.isfinite(value) else default

    raw_ids = params.get(PREFIX + "ids", "")
    ids = tuple(n for n in map(number_in, str(raw_ids).split(",")) if n is not None)
    return LinkValues(
        text=params.get(PREFIX + "text", ""),
        ids=ids[:MAX_IDS],
        temperature=number("temperature", 1.0, 0.05, 3.0),
        top_k=int(number("top_k", 0, 0, 100)),
        top_p=number("top_p", 1.0, 0.05, 1.0),
        seed=int(number("seed", 0, 0, 2**31 - 1)),
    )
