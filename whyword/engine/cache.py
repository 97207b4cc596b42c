"""A bounded, thread-safe LRU cache of finished results, keyed by the full request.

Results (`Explanation`, `AttributionMatrix`) are frozen, so a repeated request — a class
following the teacher's example — gets the very same object back in microseconds. The key is
everything that changes the result: which function, the model (its name, the identity of its
weights object and its device), the input, target, foil, methods and every option value;
never the progress callback. Bounds: `WHYWORD_CACHE_ENTRIES` entries (default 128; 0 turns
the cache off) and `WHYWORD_CACHE_MB` megabytes (default 64), a result's size estimated from
the length of its JSON. Both are read on every call, so they can change at run time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping
from typing import Any

from whyword.runtime import settings
from whyword.runtime.bounded import BoundedCache
from whyword.runtime.cache_keys import model_key

DEFAULT_MB = settings.CACHE_MB.default


def size_of(result: Any) -> int:
    """Bytes a result takes, estimated as the length of its JSON."""
    to_json = getattr(result, "to_json", None)
    return len(to_json()) if callable(to_json) else 0


def _max_bytes() -> int:
    """`WHYWORD_CACHE_MB` in bytes (a malformed value is a one-sentence error)."""
    return int(settings.CACHE_MB.get() * 1024 * 1024)


# the one `explain`, `attribute` and both dispatchers share; off at WHYWORD_CACHE_ENTRIES=0
RESULTS: BoundedCache[Any] = BoundedCache(
    max_entries=settings.CACHE_ENTRIES.get, max_bytes=_max_bytes, size=size_of
)


def request_key(function: str, lm, *parts: Any, options=None, methods=()) -> Hashable:
    """A hashable key of a request; `options` (ExplainOptions) enter by value, minus progress;
    `methods` by name and by the function that runs each (a re-registered method misses)."""
    from whyword.attr import get_method

    opts = () if options is None else tuple(sorted(options.to_dict().items()))
    runs = tuple((name, get_method(name).run) for name in methods)
    return (function, model_key(lm), freeze(parts), freeze(opts), runs)


def freeze(value: Any) -> Hashable:
    """Lists, dicts, dataclasses and tensors as nested tuples, so they can be part of a key."""
    if isinstance(value, str | bytes | int | float | bool | type(None)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return (type(value).__name__, tuple(freeze(getattr(value, f.name)) for f in fields))
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), freeze(v)) for k, v in value.items()))
    if hasattr(value, "tolist"):  # a tensor or an array
        return ("array", freeze(value.tolist()))
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return tuple(freeze(v) for v in items)
    raise TypeError(f"cannot use {type(value).__name__} in a cache key")
