"""Fixtures of the page-event tests (test_handlers*.py): local limits, a first view."""

from __future__ import annotations

import pytest

from tests.unit.ui.handlers_kit import FAST
from whyword.ui import handlers
from whyword.ui.share import Query


@pytest.fixture
def local_limits(monkeypatch):
    """Local (not hosted) limits unless a test says otherwise (each test_handlers*.py uses it for
    every test)."""
    monkeypatch.delenv("WHYWORD_HOSTED", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    monkeypatch.delenv("WHYWORD_MODELS", raising=False)
    from whyword.models.load import probe_kind

    probe_kind.cache_clear()


@pytest.fixture(scope="module")
def gpt2_view(tiny_paths):
    """A first result on the tiny causal LM, and the session state after it."""
    outcome = handlers.on_submit(
        Query(text="The capital of France is", model=tiny_paths["gpt2"], **FAST)
    )
    assert outcome.ok, outcome.error
    return outcome, handlers.next_state(outcome, None)


@pytest.fixture(scope="session")
def page():
    """The page, built once for the tests that read its components and events."""
    from whyword.ui.app import build_demo

    return build_demo()
