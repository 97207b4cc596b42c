"""The same request gives the same scores: in the library, across processes, and in the app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import whyword as ww
from tests.tolerances import OTHER_PROCESS, SAME_ARITHMETIC, assert_close
from whyword.attr import METHODS

ROOT = Path(__file__).resolve().parents[2]
TEXT = "The capital of France is"
FAST = {"n_steps": 8, "max_steps": 16, "nt_samples": 4}


def scores(e: ww.Explanation) -> dict[str, tuple[float, ...]]:
    return {a.method: a.scores for a in e.attributions}


pytestmark = pytest.mark.usefixtures("one_torch_thread", "local_mode")


# --- library ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "text"),
    [("gpt2", TEXT), ("bert", "the capital of [MASK] is paris ."), ("gpt2", "The [MASK] of")],
)
def test_every_method_repeats_exactly(tiny_paths, model: str, text: str) -> None:
    from whyword.attr.attnlrp import supported

    lm = ww.load_model(tiny_paths[model])
    methods = tuple(m for m in METHODS if m != "attnlrp" or supported(lm))
    assert ("attnlrp" in methods) == (model == "gpt2")  # LXT has working rules for GPT-2 only

    def run() -> ww.Explanation:
        return ww.explain(text, methods=methods, model=lm, **FAST)

    first = run()
    ww.explain(text, methods=("smoothgrad",), model=tiny_paths[model], seed=7, **FAST)  # between
    torch.rand(5)  # the global RNG moves on: SmoothGrad must not depend on it
    assert scores(run()) == scores(first)


def test_smoothgrad_seed_decides_the_noise(tiny_gpt2) -> None:
    def run(seed: int) -> tuple[float, ...]:
        e = ww.explain(TEXT, methods=("smoothgrad",), model=tiny_gpt2, seed=seed, nt_samples=4)
        return e.attributions[0].scores

    assert run(0) == run(0)
    assert run(1) != run(0)
    assert (
        ww.explain(TEXT, methods=("smoothgrad",), model=tiny_gpt2).attributions[0].params.seed == 0
    )


def test_smoothgrad_leaves_the_global_rng_alone(tiny_gpt2) -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    ww.explain(TEXT, methods=("smoothgrad",), model=tiny_gpt2, nt_samples=4)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.slow
def test_default_model_repeats(smol) -> None:
    def run() -> ww.Explanation:
        return ww.explain(
            "Paris is",
            methods=("integrated_gradients", "smoothgrad"),
            model=smol,
            n_steps=4,
            adaptive=False,
            nt_samples=2,
            k=3,
        )

    assert scores(run()) == scores(run())


@pytest.mark.numerics
def test_same_scores_in_a_fresh_process(tiny_paths) -> None:
    """The seed, not the process's history, fixes SmoothGrad; IG has no randomness at all."""
    request = {
        "text": TEXT,
        "model": tiny_paths["gpt2"],
        "methods": ["smoothgrad", "integrated_gradients"],
    }
    code = (
        "import json, sys, whyword as ww\n"
        "r = json.loads(sys.argv[1])\n"
        "e = ww.explain(r['text'], methods=r['methods'], model=r['model'], "
        "n_steps=8, max_steps=16, nt_samples=4)\n"
        "print(json.dumps({a.method: a.scores for a in e.attributions}))\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(request)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    there = json.loads(out.stdout.strip().splitlines()[-1])
    here = scores(
        ww.explain(TEXT, methods=tuple(request["methods"]), model=request["model"], **FAST)
    )
    for method, values in here.items():
        assert_close(there[method], values, OTHER_PROCESS, method)


# --- the app ---------------------------------------------------------------------------------


@pytest.mark.numerics
def test_app_repeats_and_reused_predictions_change_nothing(tiny_paths) -> None:
    from whyword.ui import handlers
    from whyword.ui.share import Query

    query = Query(
        text=TEXT,
        model=tiny_paths["gpt2"],
        methods=tuple(METHODS),
        steps=8,
        max_steps=16,
        samples=4,
    )
    first = handlers.run(query)
    again = handlers.run(query)
    assert first.ok and again.ok
    assert scores(again.explanation) == scores(first.explanation)  # the same route: exactly
    state = handlers.next_state(first, None)
    reused = handlers.run(query, state)  # a retarget: the previous predictions are reused
    assert reused.reused
    for method, values in scores(first.explanation).items():  # another route to the same F
        assert_close(scores(reused.explanation)[method], values, SAME_ARITHMETIC, method)


@pytest.mark.numerics
def test_api_matches_the_library(tiny_paths) -> None:
    """The API refines IG like the page: the same adaptive options as the library's."""
    from whyword.ui import handlers
    from whyword.ui.share import Query

    data, _ = handlers.api_explain(
        TEXT, tiny_paths["gpt2"], methods="integrated_gradients,smoothgrad", steps=8
    )
    direct = ww.explain(
        TEXT,
        methods=("integrated_gradients", "smoothgrad"),
        model=tiny_paths["gpt2"],
        n_steps=8,
        max_steps=Query().max_steps,
    )
    assert direct.attribution("integrated_gradients").params.adaptive
    api = {a["method"]: a["scores"] for a in data["attributions"]}
    assert api.keys() == scores(direct).keys()
    for method, values in scores(direct).items():  # two routes: 1e-10 apart on an AVX2 CPU
        assert_close(api[method], values, SAME_ARITHMETIC, method)
