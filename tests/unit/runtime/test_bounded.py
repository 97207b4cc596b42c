"""The one cache type (whyword/runtime/bounded.py): LRU order, both bounds, counters, threads."""

from __future__ import annotations

import threading

from whyword.runtime.bounded import BoundedCache


def sized(max_entries=None, max_bytes=None) -> BoundedCache[str]:
    """Values are strings; a value's size is its length."""
    return BoundedCache(max_entries=max_entries, max_bytes=max_bytes, size=len)


def test_the_entry_bound_drops_the_least_recently_used() -> None:
    cache = sized(max_entries=2)
    cache.put("a", "1")
    cache.put("b", "2")
    assert cache.get("a") == "1"  # now a is the most recent: b goes first
    cache.put("c", "3")
    assert cache.keys() == ["a", "c"] and cache.get("b") is None
    assert (cache.hits, cache.misses) == (1, 1)


def test_the_byte_bound_drops_as_many_as_it_takes() -> None:
    cache = sized(max_bytes=10)
    for key, value in (("a", "xxx"), ("b", "yyy"), ("c", "zzz")):  # 9 bytes: all fit
        cache.put(key, value)
    assert len(cache) == 3 and cache.nbytes == 9
    cache.put("d", "wwwwwww")  # 7 more: 16 > 10, so a then b go (3 + 7 = 10 fits)
    assert cache.keys() == ["c", "d"] and cache.nbytes == 10


def test_an_item_larger_than_the_budget_is_not_stored() -> None:
    cache = sized(max_bytes=4)
    cache.put("a", "xx")
    # larger than the whole budget: nothing is kept and nothing dropped
    assert not cache.put("big", "xxxxx")
    assert cache.keys() == ["a"] and cache.nbytes == 2


def test_replacing_a_key_recounts_its_bytes_and_refreshes_it() -> None:
    cache = sized(max_entries=2, max_bytes=100)
    cache.put("a", "xxxx")
    cache.put("b", "y")
    cache.put("a", "zz")
    assert cache.keys() == ["b", "a"] and cache.nbytes == 3 and cache.get("a") == "zz"
    assert not cache.put("b", "other", replace=False)  # kept as it was, where it was
    assert cache.get("b", count=False) == "y" and cache.nbytes == 3


def test_bounds_are_read_on_every_call_and_zero_entries_is_off() -> None:
    limit = [3]
    cache = BoundedCache(max_entries=lambda: limit[0])
    for key in "abc":
        cache.put(key, key.upper())
    limit[0] = 1
    cache.put("d", "D")  # the smaller bound applies at once
    assert cache.keys() == ["d"]
    limit[0] = 0
    assert cache.get("d") is None and not cache.put("e", "E")  # off: nothing found or kept
    assert (cache.hits, cache.misses) == (0, 0)  # and nothing counted
    calls = []
    assert cache.get_or_compute("f", lambda: calls.append(1) or "F") == "F" and calls == [1]
    limit[0] = 5
    assert cache.get("d") == "D"  # on again: what was held is still there


def test_get_or_compute_computes_once_per_key() -> None:
    cache = sized(max_entries=4)
    calls = []
    for _ in range(3):
        assert cache.get_or_compute("k", lambda: calls.append(1) or "value") == "value"
    assert calls == [1] and (cache.hits, cache.misses) == (2, 1)
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0 and (cache.hits, cache.misses) == (0, 0)


def test_threads_keep_the_bounds_and_the_byte_count() -> None:
    cache = sized(max_entries=16, max_bytes=200)
    errors = []

    def work(worker: int) -> None:
        try:
            for i in range(400):
                key = (worker, i % 40)
                if cache.get(key) is None:
                    cache.put(key, "x" * (1 + (worker + i) % 13))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    held = cache.items()
    assert len(held) <= 16 and cache.nbytes <= 200
    assert cache.nbytes == sum(len(value) for _, value in held)  # the count never drifted
    assert cache.hits + cache.misses == 8 * 400
