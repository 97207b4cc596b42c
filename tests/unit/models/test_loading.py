"""Loading models: what is refused with one sentence, the bounded LRU of loaded models, frozen
eval-mode weights, and a slow load that does not block models already loaded."""

from __future__ import annotations

import pytest

import whyword as ww
from whyword.models.load import clear_cache, load_model, loaded_models


def test_a_model_without_lm_head_is_refused_clearly(tmp_path):
    from tests.tiny import build_classifier

    with pytest.raises(ww.ModelLoadError, match="not a causal or masked language model"):
        load_model(str(build_classifier(tmp_path / "cls")))


@pytest.mark.parametrize(
    "name, message",
    [
        ("/no/such/folder", "no such folder"),
        ("no-such-user/no-such-model", "Hub cannot be reached|no such model"),
    ],
)
def test_unloadable_names_give_one_sentence(name, message):
    with pytest.raises(ww.ModelLoadError, match=message):
        load_model(name)


def test_loaded_models_are_a_bounded_lru(tiny_paths, monkeypatch):
    monkeypatch.setenv("WHYWORD_MAX_MODELS", "2")
    clear_cache()
    for name in ("gpt2", "bert", "roberta", "gpt2"):
        load_model(tiny_paths[name])
    assert loaded_models() == [tiny_paths["roberta"], tiny_paths["gpt2"]]
    clear_cache()


def test_models_are_frozen_in_eval_mode(tiny_gpt2):
    assert not tiny_gpt2.model.training
    assert not any(p.requires_grad for p in tiny_gpt2.model.parameters())


def test_a_slow_load_does_not_block_models_already_loaded(tiny_paths, monkeypatch):
    import threading

    from whyword.models import load as models

    fast = load_model(tiny_paths["gpt2"])
    started, release = threading.Event(), threading.Event()
    real_load = models._load

    def slow_load(source, display):
        started.set()
        release.wait(10)
        return real_load(source, display)

    monkeypatch.setattr(models, "_load", slow_load)
    worker = threading.Thread(target=load_model, args=(tiny_paths["bert"],))
    worker.start()
    assert started.wait(10)
    assert load_model(tiny_paths["gpt2"]) is fast  # answered while the other load is stuck
    release.set()
    worker.join(20)
    assert not worker.is_alive()
