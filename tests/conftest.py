"""Shared fixtures: tiny random LMs (built once per session) and the real default model."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no Hub here: fail fast instead of retrying
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
# The result cache is off in tests (each call computes, as tests that patch internals expect);
# tests/unit/engine/test_cache.py turns it on where it is tested.
os.environ.setdefault("WHYWORD_CACHE_ENTRIES", "0")

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

from tests import tiny  # noqa: E402


def pytest_collection_modifyitems(config, items) -> None:
    """A test that takes the real default model (the `smol` fixture) must be marked slow;
    tests marked `online` are skipped, with that reason, while the Hub is off."""
    unmarked = [
        item.nodeid
        for item in items
        if "smol" in getattr(item, "fixturenames", ()) and item.get_closest_marker("slow") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "Mark these slow (they load the default model): " + ", ".join(unmarked)
        )
    if os.environ.get("HF_HUB_OFFLINE") == "1":  # the default here: no Hub
        offline = pytest.mark.skip(reason="needs the Hugging Face Hub: run with HF_HUB_OFFLINE=0")
        for item in items:
            if item.get_closest_marker("online") is not None:
                item.add_marker(offline)


@pytest.fixture(autouse=True)
def fast_tests_leave_the_default_model_alone(request, monkeypatch) -> Iterator[None]:
    """A test not marked slow fails if anything it calls loads the real default model (by
    name "default", "" or None, in any thread of this process)."""
    loads: list[str] = []
    if request.node.get_closest_marker("slow") is None:
        from whyword.models import default as default_model
        from whyword.models import load as models

        real_cached = models._cached

        def load_default():
            loads.append("loaded")
            pytest.fail("a test not marked slow loads the default model: mark it slow")

        def cached(key: str):
            found = real_cached(key)
            if found is not None and found.name.startswith(default_model.DISPLAY_NAME):
                loads.append("cached")
                pytest.fail("a test not marked slow uses the default model: mark it slow")
            return found

        monkeypatch.setattr(models, "_load_default", load_default)
        monkeypatch.setattr(models, "_cached", cached)
    yield
    assert not loads, f"default model {loads[0]} in a test not marked slow: mark it slow"


@pytest.fixture(scope="session")
def tiny_paths(tmp_path_factory) -> dict[str, str]:
    """Folders holding tiny random gpt2 / bert / roberta models with their tokenizers."""
    root = tmp_path_factory.mktemp("tiny-models")
    return {name: str(build(root / name)) for name, build in tiny.BUILDERS.items()}


@pytest.fixture(scope="session")
def tiny_chat_path(tmp_path_factory) -> str:
    """A folder holding a tiny random Llama whose tokenizer has a chat template."""
    return str(tiny.build_chat_llama(tmp_path_factory.mktemp("tiny-chat") / "llama"))


@pytest.fixture(scope="session")
def tiny_gpt2(tiny_paths):
    from whyword import load_model

    return load_model(tiny_paths["gpt2"])


@pytest.fixture(scope="session")
def tiny_bert(tiny_paths):
    from whyword import load_model

    return load_model(tiny_paths["bert"])


@pytest.fixture(scope="session")
def tiny_roberta(tiny_paths):
    from whyword import load_model

    return load_model(tiny_paths["roberta"])


@pytest.fixture(scope="session")
def smol():
    """The embedded default model (SmolLM2-135M-Instruct), loaded once."""
    from whyword import load_model

    return load_model()


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """One intra-op thread: on a shared 2-core machine two spinning OpenMP threads per process
    make each call many times slower. Scores are compared within one thread count."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def local_mode(monkeypatch) -> None:
    """Hosted mode off, whatever the environment says."""
    monkeypatch.delenv("WHYWORD_HOSTED", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)


@pytest.fixture(scope="session")
def tiny_llama(tiny_gpt2):
    """A tiny random Llama (two blocks; grouped-query attention: 4 heads, 2 value heads, as
    the default model) that reads the tiny GPT-2's tokenizer."""
    from tests.tiny import llama_family

    return llama_family(vocab_size=len(tiny_gpt2.tokenizer), tokenizer=tiny_gpt2.tokenizer)


@pytest.fixture(scope="session")
def tiny_llama3(tiny_gpt2):
    """The same with three blocks: a middle block for the layers view to read and ablate."""
    from tests.tiny import llama_family

    return llama_family(
        vocab_size=len(tiny_gpt2.tokenizer), layers=3, tokenizer=tiny_gpt2.tokenizer
    )
