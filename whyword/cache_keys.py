"""What the result cache (whyword/cache.py) and the forward cache (whyword/forward_cache.py)
share: their settings read from the environment, and the key of a model's weights."""

from __future__ import annotations

import os
import threading
import weakref

from whyword.errors import InputError

DEFAULT_ENTRIES = 128


def env_number(name: str, default, kind):
    """A number ≥ 0 from the environment (default when unset); else a one-sentence error."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise InputError(f"{name} must be a number ≥ 0, got {raw!r}.")
    return value


def cache_entries() -> int:
    """`WHYWORD_CACHE_ENTRIES`: the result cache's entries; 0 turns both caches off."""
    return int(env_number("WHYWORD_CACHE_ENTRIES", DEFAULT_ENTRIES, int))


_MODEL_IDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_NEXT_ID = [0]
_ID_LOCK = threading.Lock()


def model_key(lm) -> tuple[str, int, str]:
    """The model's name, a serial number for its weights object (never reused, unlike id())
    and its device."""
    with _ID_LOCK:
        serial = _MODEL_IDS.get(lm.model)
        if serial is None:
            _NEXT_ID[0] += 1
            serial = _MODEL_IDS[lm.model] = _NEXT_ID[0]
    return lm.name, serial, str(lm.device)
