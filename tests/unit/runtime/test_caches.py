"""Every cache is the one BoundedCache type, keyed as it should be: the step-through KV store by
the model's weights (not its name), the loaded retrievers bounded like the loaded models."""

from __future__ import annotations

import copy
import dataclasses
import shutil

import torch

from whyword.engine import cache
from whyword.evidence import retriever
from whyword.models import load as models
from whyword.runtime import forward_cache
from whyword.runtime.bounded import BoundedCache
from whyword.tasks import stepper
from whyword.tasks.generate import prompt_ids
from whyword.tasks.stepper import KVStore, last_logits


def test_every_cache_is_a_bounded_cache() -> None:
    for held in (cache.RESULTS, forward_cache.LOGITS, stepper.STORE, models._CACHE):
        assert isinstance(held, BoundedCache)
    assert isinstance(retriever._CACHE, BoundedCache)
    assert retriever._CACHE.max_entries == retriever.RETRIEVERS_KEPT


def full_last_logits(lm, ids) -> torch.Tensor:
    with torch.no_grad():
        return lm.model(input_ids=torch.tensor([ids]), use_cache=False).logits[0, -1].float()


def test_two_models_under_one_name_never_share_kv_entries(tiny_gpt2) -> None:
    other_weights = copy.deepcopy(tiny_gpt2.model)
    with torch.no_grad():
        other_weights.get_input_embeddings().weight.mul_(3.0)  # a different model
    other = dataclasses.replace(tiny_gpt2, model=other_weights)
    assert other.name == tiny_gpt2.name
    store = KVStore()
    ids = prompt_ids(tiny_gpt2, "The capital of France is", 1)
    with tiny_gpt2.lock:
        first = last_logits(tiny_gpt2, ids, store)  # (V,)
        second = last_logits(other, ids, store)  # (V,)
        longer = last_logits(other, (*ids, 5), store)  # extends other's prefix, not the first's
    assert store.misses == 3 and store.hits == 0 and len(store) == 3
    torch.testing.assert_close(first, full_last_logits(tiny_gpt2, ids), atol=1e-5, rtol=0)
    torch.testing.assert_close(second, full_last_logits(other, ids), atol=1e-5, rtol=0)
    torch.testing.assert_close(longer, full_last_logits(other, (*ids, 5)), atol=1e-5, rtol=0)
    assert (first - second).abs().max() > 1e-3  # the two answers differ: sharing would be wrong


def test_loaded_retrievers_are_bounded(tiny_paths, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(retriever, "_CACHE", BoundedCache(max_entries=2))
    folders = []
    for i in range(3):
        shutil.copytree(tiny_paths["bert"], tmp_path / f"encoder{i}")
        folders.append(str(tmp_path / f"encoder{i}"))
    first = retriever.load_retriever(folders[0])
    assert retriever.load_retriever(folders[0]) is first  # cached
    retriever.load_retriever(folders[1])
    retriever.load_retriever(folders[2])  # the least recently used, the first, is dropped
    assert retriever._CACHE.keys() == folders[1:]
    assert retriever.load_retriever(folders[0]) is not first  # loaded again
