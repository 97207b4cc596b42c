"""Memory in a long-running server: repeated IG calls do not grow, and the model cache is bounded."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import whyword as ww
from whyword.models import load as models
from whyword.runtime import settings

CALLS = 200  # sequential explain calls measured
WARM_UP = 10  # calls before the first reading: allocator pools, lazy imports, Captum caches
MAX_GROWTH_MB = 50.0


def rss_mb() -> float:
    """This process's resident set size, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024  # kB -> MB
    raise RuntimeError("no VmRSS in /proc/self/status")


@pytest.fixture()
def one_torch_thread() -> Iterator[None]:
    """One intra-op thread while measuring: on a shared 2-core machine two spinning OpenMP
    threads per process make each call ~10x slower; memory use is the same."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture()
def isolated_cache(monkeypatch) -> Iterator[None]:
    """An empty model cache for the test; the session's cached models come back afterwards."""
    saved = list(models._CACHE.items())
    models.clear_cache()
    yield
    models.clear_cache()
    for key, loaded in saved:
        models.register_model(key, loaded)


# --- repeated IG calls -----------------------------------------------------------------------


def live_tensors() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, torch.Tensor))


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_ig_calls_do_not_grow_memory(smol, one_torch_thread) -> None:
    """200 IG explanations on the default model, as retargets mostly (predictions reused, as
    the app does) and a fresh prediction every tenth call."""
    first = ww.explain("Paris is", methods=("saliency",), model=smol, k=3)

    def once(i: int) -> None:
        e = ww.explain(
            "Paris is",
            methods=("integrated_gradients",),
            model=smol,
            predictions=None if i % 10 == 0 else first.predictions,
            n_steps=2,
            adaptive=False,
            k=3,
        )
        assert e.attributions[0].steps == 2

    for i in range(WARM_UP):
        once(i)
    tensors = live_tensors()
    start = rss_mb()
    readings = []
    for i in range(CALLS):
        once(i)
        if (i + 1) % 50 == 0:
            gc.collect()
            readings.append(round(rss_mb() - start, 1))
    growth = rss_mb() - start
    print(f"\nRSS {start:.0f} MB after warm-up; growth after each 50 calls: {readings} MB")
    assert growth < MAX_GROWTH_MB, readings
    assert live_tensors() <= tensors + 10, "tensors pile up across calls"


# --- the model cache -------------------------------------------------------------------------


def copies(source: str, root: Path, n: int) -> list[str]:
    """`n` folders holding the same tiny model: distinct cache keys, nothing else shares them."""
    out = []
    for i in range(n):
        target = root / f"copy{i}"
        shutil.copytree(source, target)
        out.append(str(target))
    return out


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_switching_models_keeps_at_most_the_limit(
    tiny_paths, tmp_path, monkeypatch, isolated_cache, limit: int
) -> None:
    monkeypatch.setenv("WHYWORD_MAX_MODELS", str(limit))
    names = [tiny_paths["gpt2"], tiny_paths["bert"], tiny_paths["roberta"]] * 2
    for i, name in enumerate(names):
        text = "The capital [MASK] is" if "gpt2" not in name else "The capital is"
        ww.explain(text, methods=("saliency",), model=name)
        held = models.loaded_models()
        assert len(held) == min(limit, i + 1, 3)
        assert held[-1] == name  # the one just used is the most recent


def test_an_evicted_model_is_freed(tiny_paths, tmp_path, monkeypatch, isolated_cache) -> None:
    monkeypatch.setenv("WHYWORD_MAX_MODELS", "2")
    first, *others = copies(tiny_paths["gpt2"], tmp_path, 3)
    ww.explain("The capital is", methods=("integrated_gradients",), model=first, n_steps=4)
    ref = weakref.ref(models.load_model(first).model)
    for name in others:
        ww.explain("The capital is", methods=("saliency",), model=name)
    assert first not in models.loaded_models()
    gc.collect()
    assert ref() is None, "an evicted model is still referenced somewhere"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", 1), ("3", 3), (" 4 ", 4), ("0", 1), ("-2", 1), ("two", 2), ("", 2), (None, 2)],
)
def test_max_models_setting_is_read_leniently(value: str | None, expected: int) -> None:
    assert settings.MAX_MODELS.parse(value) == expected


def test_max_models_comes_from_the_environment() -> None:
    env = {**os.environ, "WHYWORD_MAX_MODELS": "1"}
    code = "import whyword.models.load as m; print(m.max_loaded())"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "1"
