"""The one cache type: a thread-safe LRU bounded in entries and in bytes.

Every cache in the package is one of these: finished results (whyword/engine/cache.py), no-gradient
logits (whyword/runtime/forward_cache.py), step-through keys/values (whyword/tasks/stepper.py), loaded
models (whyword/models/load.py) and loaded retrievers (whyword/evidence/retriever.py). A bound is a
number, a function read on every call (so a setting changed at run time takes effect at once)
or None (no bound on that axis). Zero entries means off: nothing is stored or found. An item
larger than the whole byte budget is not stored. Values are never None (None means "missed").
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")
Bound = int | Callable[[], int | None] | None


def _read(bound: Bound) -> int | None:
    return bound() if callable(bound) else bound


class BoundedCache(Generic[V]):
    """LRU of key → value; past either bound, the least recently used go first.

    `size(value)` is the bytes a value takes (default 0: only the entry bound applies).
    `hits` / `misses` count the lookups made while the cache is on."""

    def __init__(
        self,
        *,
        max_entries: Bound = None,
        max_bytes: Bound = None,
        size: Callable[[V], int] = lambda _value: 0,
    ) -> None:
        self._max_entries, self._max_bytes, self._size = max_entries, max_bytes, size
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def max_entries(self) -> int | None:
        return _read(self._max_entries)

    @property
    def max_bytes(self) -> int | None:
        return _read(self._max_bytes)

    def bounds(self) -> tuple[int | None, int | None]:
        """(entries, bytes) now; both are read, so a malformed setting is said at once."""
        return self.max_entries, self.max_bytes

    def get(self, key: Hashable, *, count: bool = True) -> V | None:
        """The value for `key` (now the most recently used), or None; `count`: tally it."""
        entries, _ = self.bounds()
        if entries == 0:
            return None
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            if count:
                self.hits += found is not None
                self.misses += found is None
            return None if found is None else found[0]

    def put(
        self, key: Hashable, value: V, *, size: int | None = None, replace: bool = True
    ) -> bool:
        """Keep `value` as the most recently used; False when it is not kept (the cache is off,
        the value alone is larger than the byte budget, or `replace` is False and `key` is
        held already — then the held value stays where it is)."""
        assert value is not None
        entries, limit = self.bounds()
        if entries == 0:
            return False
        size = self._size(value) if size is None else size
        if limit is not None and size > limit:
            return False
        with self._lock:
            if key in self._items:
                if not replace:
                    return False
                self._bytes -= self._items.pop(key)[1]
            self._items[key] = (value, size)
            self._bytes += size
            while self._items and (
                (entries is not None and len(self._items) > entries)
                or (limit is not None and self._bytes > limit)
            ):
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped
        return True

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value for `key`, else `compute()` — run outside the lock — kept and returned."""
        found = self.get(key)
        if found is not None:
            return found
        value = compute()
        self.put(key, value)
        return value

    def keys(self) -> list[Hashable]:
        """The keys held, least recently used first."""
        with self._lock:
            return list(self._items)

    def items(self) -> list[tuple[Hashable, V]]:
        """(key, value) pairs, least recently used first (nothing is marked used)."""
        with self._lock:
            return [(key, value) for key, (value, _) in self._items.items()]

    def clear(self) -> None:
        """Drop everything and start counting again."""
        with self._lock:
            self._items.clear()
            self._bytes = 0
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    @property
    def nbytes(self) -> int:
        """Bytes held (the sum of the values' sizes)."""
        return self._bytes
