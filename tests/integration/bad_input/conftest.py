"""The models the bad-input cases name."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def models(tiny_paths, tmp_path_factory) -> dict[str, str]:
    """Model names by case key: the tiny folders, a classifier folder, the default model."""
    from tests.tiny import build_classifier

    folder = build_classifier(tmp_path_factory.mktemp("classifier") / "cls")
    return {**tiny_paths, "classifier": str(folder), "default": "default"}
