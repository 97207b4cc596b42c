"""Shared fixtures: tiny random LMs (built once per session) and the real default model."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no Hub here: fail fast instead of retrying
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

from tests import tiny  # noqa: E402


@pytest.fixture(scope="session")
def tiny_paths(tmp_path_factory) -> dict[str, str]:
    """Folders holding tiny random gpt2 / bert / roberta models with their tokenizers."""
    root = tmp_path_factory.mktemp("tiny-models")
    return {name: str(build(root / name)) for name, build in tiny.BUILDERS.items()}


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
