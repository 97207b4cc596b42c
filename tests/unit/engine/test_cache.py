"""The result cache: a repeated request is the same object, anything that changes it misses."""

from __future__ import annotations

import threading
from dataclasses import fields

import pytest

import whyword as ww
from whyword.engine import cache
from whyword.errors import InputError
from whyword.runtime.options import ExplainOptions

TEXT = "The capital of France is Paris. The capital of Italy is"
FAST = {"methods": ("saliency",)}


@pytest.fixture
def cache_on(monkeypatch):
    monkeypatch.setenv("WHYWORD_CACHE_ENTRIES", "128")
    monkeypatch.delenv("WHYWORD_CACHE_MB", raising=False)
    cache.RESULTS.clear()
    yield cache.RESULTS
    cache.RESULTS.clear()


@pytest.fixture
def counted(monkeypatch):
    """Counts the explanations actually computed."""
    calls = []
    from whyword.tasks import explain as explain_module

    real = explain_module.explain_many

    def counting(lm, requests, *args, **kwargs):
        calls.extend(r.text for r in requests)
        return real(lm, requests, *args, **kwargs)

    monkeypatch.setattr(explain_module, "explain_many", counting)
    return calls


def test_a_repeated_request_is_the_same_object_without_computing(cache_on, counted, tiny_gpt2):
    first = ww.explain(TEXT, model=tiny_gpt2, **FAST)
    again = ww.explain(TEXT, model=tiny_gpt2, methods=["saliency"], progress=lambda p, s: None)
    assert again is first  # the progress callback is not part of the request
    assert len(counted) == 1 and cache_on.hits == 1 and cache_on.misses == 1


def test_every_option_and_argument_changes_the_key(tiny_gpt2, tiny_bert):
    base = ExplainOptions()
    changed = {
        "k": 3,
        "mask_index": 1,
        "baseline": "pad",
        "hold_first": False,
        "n_steps": 8,
        "adaptive": False,
        "ig_tolerance": 0.01,
        "max_steps": 64,
        "nodes_per_interval": 2,
        "ig_grading": 1.0,
        "internal_batch_size": 4,
        "nt_samples": 3,
        "noise": 0.2,
        "seed": 1,
        "infill_candidates": 5,
        "faithfulness": True,  # the default is False
        "max_tokens": 50,
        "precision": "bf16",
    }
    names = {f.name for f in fields(ExplainOptions)} - {"progress", "on_stage"}
    assert set(changed) == names, "a new option needs a line here"

    def key(
        lm=tiny_gpt2, text=TEXT, target=None, foil=None, preds=None, opts=base, m=("saliency",)
    ):
        return cache.request_key("explain", lm, text, target, foil, preds, options=opts, methods=m)

    keys = [key()]
    keys += [key(opts=base.with_(**{name: value})) for name, value in changed.items()]
    keys += [key(lm=tiny_bert), key(text=TEXT + " "), key(target=" Rome"), key(target=5)]
    keys += [key(foil=" Paris"), key(m=("saliency", "occlusion")), key(m=("occlusion",))]
    assert len(set(keys)) == len(keys)
    assert key(opts=base.with_(progress=print)) == keys[0]
    assert key(opts=base.with_(on_stage=print)) == keys[0]  # the page's IG stages


def test_a_changed_option_misses_and_equals_the_uncached_result(
    cache_on, counted, tiny_gpt2, monkeypatch
):
    a = ww.explain(TEXT, model=tiny_gpt2, **FAST)
    b = ww.explain(TEXT, model=tiny_gpt2, baseline="pad", **FAST)
    c = ww.explain(TEXT, model=tiny_gpt2, foil=" Paris", **FAST)
    assert len(counted) == 3 and len({id(a), id(b), id(c)}) == 3
    monkeypatch.setenv("WHYWORD_CACHE_ENTRIES", "0")
    fresh = ww.explain(TEXT, model=tiny_gpt2, **FAST)
    assert fresh is not a and len(counted) == 4
    assert fresh.attributions[0].scores == a.attributions[0].scores
    assert fresh.attributions[0].deletion == a.attributions[0].deletion
    assert fresh.value == a.value and fresh.predictions == a.predictions


def test_the_entry_bound_evicts_the_least_recently_used(cache_on, counted, tiny_gpt2, monkeypatch):
    monkeypatch.setenv("WHYWORD_CACHE_ENTRIES", "2")
    one = ww.explain(TEXT, model=tiny_gpt2, **FAST)
    ww.explain(TEXT, model=tiny_gpt2, k=3, **FAST)
    assert ww.explain(TEXT, model=tiny_gpt2, **FAST) is one  # now the most recent
    ww.explain(TEXT, model=tiny_gpt2, k=4, **FAST)  # evicts k=3, not `one`
    assert len(cache_on) == 2 and ww.explain(TEXT, model=tiny_gpt2, **FAST) is one
    before = len(counted)
    ww.explain(TEXT, model=tiny_gpt2, k=3, **FAST)
    assert len(counted) == before + 1  # k=3 was evicted: computed again


def test_the_byte_bound_evicts(cache_on, tiny_gpt2, monkeypatch):
    one = ww.explain(TEXT, model=tiny_gpt2, **FAST)
    size = cache.size_of(one)
    assert cache_on.nbytes == size == len(one.to_json())
    monkeypatch.setenv("WHYWORD_CACHE_MB", str(1.5 * size / 2**20))  # room for one, not two
    two = ww.explain(TEXT, model=tiny_gpt2, k=3, **FAST)
    assert len(cache_on) == 1 and cache_on.nbytes == cache.size_of(two)
    monkeypatch.setenv("WHYWORD_CACHE_MB", str(0.5 * size / 2**20))  # smaller than one result
    three = ww.explain(TEXT, model=tiny_gpt2, k=4, **FAST)
    assert ww.explain(TEXT, model=tiny_gpt2, k=4, **FAST) is not three


def test_disabled_by_the_environment(cache_on, counted, tiny_gpt2, monkeypatch):
    monkeypatch.setenv("WHYWORD_CACHE_ENTRIES", "0")
    a = ww.explain(TEXT, model=tiny_gpt2, **FAST)
    b = ww.explain(TEXT, model=tiny_gpt2, **FAST)
    assert a is not b and len(counted) == 2 and len(cache_on) == 0


def test_a_malformed_bound_is_one_sentence(cache_on, tiny_gpt2, monkeypatch):
    monkeypatch.setenv("WHYWORD_CACHE_MB", "lots")
    with pytest.raises(InputError, match="WHYWORD_CACHE_MB must be a number"):
        ww.explain(TEXT, model=tiny_gpt2, **FAST)


def test_attribute_is_cached_too(cache_on, tiny_gpt2):
    ids = tiny_gpt2.tokenizer(TEXT)["input_ids"]
    outputs = [ww.Output(position=3), ww.Output(target=[5, 6])]
    m = ww.attribute(tiny_gpt2, ids, outputs, "saliency")
    assert ww.attribute(tiny_gpt2, list(ids), outputs, ["saliency"]) is m
    assert ww.attribute(tiny_gpt2, ids, outputs[:1], "saliency") is not m
    assert ww.attribute(tiny_gpt2, ids, outputs, "saliency", segments="word") is not m


def test_a_re_registered_method_misses(cache_on, tiny_gpt2):
    from whyword.attr import METHODS, register_method
    from whyword.attr.registry import MethodOutput

    def zeros(problem, params):
        return MethodOutput(problem.inputs.detach().sum(-1) * 0)  # (R, T)

    def ones(problem, params):
        return MethodOutput(problem.inputs.detach().sum(-1) * 0 + 1)  # (R, T)

    try:
        register_method("cache_test", zeros, signed=True)
        a = ww.explain(TEXT, model=tiny_gpt2, methods=("cache_test",))
        register_method("cache_test", ones, signed=True, overwrite=True)  # a new function
        b = ww.explain(TEXT, model=tiny_gpt2, methods=("cache_test",))
        assert set(a.attributions[0].scores) == {0.0} and set(b.attributions[0].scores) == {1.0}
    finally:
        METHODS.pop("cache_test", None)


def test_threads_asking_together_get_equal_results(cache_on, tiny_gpt2):
    results, errors = [], []

    def ask():
        try:
            results.append(ww.explain(TEXT, model=tiny_gpt2, **FAST))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 6 and len(cache_on) == 1
    assert all(r.attributions[0].scores == results[0].attributions[0].scores for r in results)
    assert ww.explain(TEXT, model=tiny_gpt2, **FAST) in results
