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
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any, TypeVar

from whyword.cache_keys import cache_entries, env_number, model_key

DEFAULT_MB = 64.0
T = TypeVar("T")


class ResultCache:
    """LRU over (key -> (result, bytes)), evicting the least recently used past either bound."""

    def __init__(self) -> None:
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached result for `key`, else `compute()` (run outside the lock), stored."""
        entries, limit = bounds()
        if entries == 0:
            return compute()
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found[0]
            self.misses += 1
        result = compute()
        self.put(key, result, size_of(result), entries, limit)
        return result

    def lookup(self, key: Hashable) -> Any | None:
        """The cached result for `key`, or None (a batch looks up its members one by one)."""
        if bounds()[0] == 0:
            return None
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found[0]

    def store(self, key: Hashable, result: Any) -> None:
        """Keep a result computed outside `get_or_compute` (a batch's members)."""
        entries, limit = bounds()
        if entries:
            self.put(key, result, size_of(result), entries, limit)

    def put(self, key: Hashable, result: Any, size: int, entries: int, limit: int) -> None:
        if size > limit:
            return  # one result larger than the whole budget is not kept
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (result, size)
            self._bytes += size
            while len(self._items) > entries or self._bytes > limit:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        return self._bytes


RESULTS = ResultCache()  # the one `explain` and `attribute` share


def bounds() -> tuple[int, int]:
    """(entries, bytes) from the environment; a malformed value is a one-sentence error."""
    megabytes = env_number("WHYWORD_CACHE_MB", DEFAULT_MB, float)
    return cache_entries(), int(megabytes * 1024 * 1024)


def size_of(result: Any) -> int:
    """Bytes a result takes, estimated as the length of its JSON."""
    to_json = getattr(result, "to_json", None)
    return len(to_json()) if callable(to_json) else 0


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
