"""The fuzz's models (tiny, local mode), its retriever, and the log it watches."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.integration.fuzz.kit import Records
from tests.unit.evidence.test_evidence import retriever  # noqa: F401  (the tiny encoder fixture)


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> Iterator[None]:
    """Local limits, and the retriever's block-embedding cache in a temporary folder."""
    patch = pytest.MonkeyPatch()
    for name in ("WHYWORD_HOSTED", "SPACE_ID", "WHYWORD_MODELS"):
        patch.delenv(name, raising=False)
    patch.setenv("WHYWORD_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    patch.undo()


@pytest.fixture(scope="module")
def tiny_retriever_as_default(retriever, local) -> Iterator[None]:  # noqa: F811
    """The Evidence route loads the default retriever by name: here it is the tiny encoder."""
    from whyword.evidence import retriever as retrievers

    before = retrievers._CACHE.get("default", count=False)
    retrievers._CACHE.put("default", retriever)
    yield
    retrievers._CACHE.clear()
    if before is not None:
        retrievers._CACHE.put("default", before)


@pytest.fixture
def log() -> Iterator[Records]:
    """Every record of the whyword loggers during one test (INFO and up)."""
    records = Records()
    root = logging.getLogger("whyword")
    level = root.level
    root.addHandler(records)
    root.setLevel(logging.INFO)
    yield records
    root.removeHandler(records)
    root.setLevel(level)
