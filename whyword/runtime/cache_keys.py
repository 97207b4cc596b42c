"""What every cache keyed by a model shares (the result cache, whyword/engine/cache.py; the forward
cache, whyword/runtime/forward_cache.py; the step-through KV store, whyword/tasks/stepper.py): the key of a
model's weights."""

from __future__ import annotations

import threading
import weakref

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
