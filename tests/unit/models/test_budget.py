"""Memory budgets: the rows of a batched call shrink with the text, fit the budget, and a long
text explains with IG inside an address-space cap that the unbounded batch does not fit."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import whyword as ww
from tests.tolerances import FP32, assert_close
from whyword.models import budget
from whyword.models.budget import (
    RowShape,
    batch_rows,
    memory_budget,
    parse_size,
    row_bytes,
    rows_per_batch,
)

MiB = 2**20


@pytest.fixture()
def no_env_budget(monkeypatch) -> None:
    monkeypatch.delenv(budget.ENV, raising=False)


def test_rows_shrink_as_tokens_grow_and_never_reach_zero(tiny_gpt2) -> None:
    lengths = [4, 16, 64, 256, 1024, 4096]
    rows = [rows_per_batch(tiny_gpt2, t, budget=4 * MiB) for t in lengths]
    assert rows == sorted(rows, reverse=True)
    assert rows[0] > 4 * rows[-2]  # shorter rows: many more per batch
    assert rows[-1] == 1  # one row costs more than the budget: still one row, never zero
    assert row_bytes(tiny_gpt2, 4096) > 4 * MiB


@pytest.mark.parametrize("grad", [True, False])
@pytest.mark.parametrize("tokens", [1, 7, 50, 300, 1000])
@pytest.mark.parametrize("limit", [1 * MiB, 3 * MiB, 64 * MiB])
def test_estimated_peak_fits_the_budget(tiny_gpt2, tokens: int, limit: int, grad: bool) -> None:
    rows = rows_per_batch(tiny_gpt2, tokens, grad=grad, budget=limit)
    one = row_bytes(tiny_gpt2, tokens, grad=grad)
    assert rows >= 1
    assert rows == 1 or rows * one <= limit
    assert (rows + 1) * one > limit  # the most that fit, not fewer


def test_a_row_costs_more_with_gradients_foils_and_scored_positions(tiny_gpt2) -> None:
    base = row_bytes(tiny_gpt2, 100)
    assert row_bytes(tiny_gpt2, 100, grad=False) < base
    assert row_bytes(tiny_gpt2, 100, sequences_per_row=2) == 2 * base
    vocab_floats = tiny_gpt2.vocab_size * budget.LOGIT_COPIES * 4
    assert row_bytes(tiny_gpt2, 100, scored_positions=3) == base + 2 * vocab_floats


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3GB", 3 * 10**9),
        ("3 GiB", 3 * 2**30),
        ("1.5g", int(1.5 * 2**30)),
        ("512MiB", 512 * MiB),
        ("512mb", 512 * 10**6),
        ("3000000000", 3 * 10**9),
    ],
)
def test_sizes_parse(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["lots", "3 bananas", "-1GB", "0", "10KB", "GB", "1e9"])
def test_a_garbage_budget_says_what_it_wants(monkeypatch, text: str) -> None:
    monkeypatch.setenv(budget.ENV, text)
    with pytest.raises(ww.InputError, match=f"{budget.ENV} must be a size.*{text!r}"):
        memory_budget()


def test_the_environment_overrides_every_device(monkeypatch) -> None:
    monkeypatch.setenv(budget.ENV, "3GB")
    assert memory_budget("cpu") == 3 * 10**9
    assert memory_budget("cuda") == 3 * 10**9  # never asks the device


def test_device_budgets(monkeypatch, no_env_budget) -> None:
    assert memory_budget("cpu") == budget.CPU_BUDGET
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (8 * 2**30, 16 * 2**30))
    assert memory_budget("cuda") == int(8 * 2**30 * budget.DEVICE_FRACTION)
    monkeypatch.setattr(torch.mps, "recommended_max_memory", lambda: 12 * 2**30, raising=False)
    monkeypatch.setattr(torch.mps, "driver_allocated_memory", lambda: 4 * 2**30, raising=False)
    assert memory_budget("mps") == int(8 * 2**30 * budget.DEVICE_FRACTION)


def test_batch_rows_keep_short_prompts_fast_and_bound_long_ones(
    tiny_gpt2, monkeypatch, no_env_budget
) -> None:
    shape = RowShape(tiny_gpt2)
    short = [batch_rows(shape, t) for t in (1, 5, 12, 32, 64)]
    assert short == [64, 64, 42, 16, 16]  # the speed rule: a tiny model fits them all
    monkeypatch.setenv(budget.ENV, "8MiB")
    assert batch_rows(shape, 1000) == rows_per_batch(tiny_gpt2, 1000) < 16
    assert batch_rows(shape, 4000) == 1
    assert batch_rows(shape, 4000, explicit=48) == 48  # the user's internal_batch_size


def test_wide_calls_take_more_rows_but_stay_in_the_budget(
    tiny_gpt2, monkeypatch, no_env_budget
) -> None:
    """bf16 no-grad calls (the curves) take up to 2,048 token-rows; gradients never widen."""
    shape = RowShape(tiny_gpt2)
    wide = [batch_rows(shape, t, grad=False, wide=True) for t in (1, 5, 12, 32, 64)]
    assert wide == [256, 256, 170, 64, 32]
    assert batch_rows(shape, 12, grad=True, wide=True) == batch_rows(shape, 12) == 42
    monkeypatch.setenv(budget.ENV, "8MiB")
    bound = shape.rows(1000, grad=False)
    assert batch_rows(shape, 1000, grad=False, wide=True) == bound < 256


@pytest.mark.numerics
@pytest.mark.parametrize("method", ["integrated_gradients", "smoothgrad", "occlusion"])
def test_one_row_batches_give_the_same_scores(tiny_gpt2, monkeypatch, method: str) -> None:
    """Batching is bookkeeping: a budget of one row per call changes no score."""
    text = "The capital of France is Paris. The capital of Italy is"
    options = {"n_steps": 8, "nt_samples": 4, "ig_tolerance": 1e-3, "max_steps": 64}
    monkeypatch.setenv(budget.ENV, "1GB")
    wide = ww.explain(text, methods=(method,), model=tiny_gpt2, **options).attributions[0]
    monkeypatch.setattr(budget, "memory_budget", lambda device=None: 1)  # below any row
    assert rows_per_batch(tiny_gpt2, 2) == 1
    narrow = ww.explain(text, methods=(method,), model=tiny_gpt2, **options).attributions[0]
    assert narrow.steps == wide.steps
    assert_close(narrow.scores, wide.scores, FP32)


# --- a long text inside an address-space cap -------------------------------------------------

CAP_GB = 7.0  # virtual memory of the whole process: torch + model ≈ 1.9 GB before any batch
LONG_IG = textwrap.dedent(
    """
    import sys
    import whyword as ww
    from benchmarks.memory import text_of
    lm = ww.load_model()
    text = text_of(lm, 720)
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else None
    try:
        e = ww.explain(text, methods=("integrated_gradients",), model=lm, k=1, n_steps=8,
                       adaptive=False, internal_batch_size=batch)
    except RuntimeError as error:
        print("FAILED", str(error).splitlines()[0][:120])
        sys.exit(3)
    ig = e.attributions[0]
    print("OK", len(e.tokens), ig.steps, sum(s != 0 for s in ig.scores))
    """
)


def run_capped(*args: str) -> subprocess.CompletedProcess:
    cap = int(CAP_GB * 2**30)
    env = {k: v for k, v in os.environ.items() if k != budget.ENV}
    root = str(Path(__file__).resolve().parents[3])  # the repository
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-c", LONG_IG, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=900,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap)),
    )


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(resource, "RLIMIT_AS"), reason="needs RLIMIT_AS")
def test_a_long_text_explains_with_ig_inside_a_memory_cap(smol) -> None:
    """720 tokens, 8 IG nodes: the budget runs them 2 rows at a time (≈ 0.85 GB a row); the
    old batch rule (16 rows, here forced with internal_batch_size=16) puts all 8 nodes in one
    batch, ≈ 7 GB, and fails under the same cap."""
    bounded = run_capped()
    assert bounded.returncode == 0, bounded.stdout + bounded.stderr[-2000:]
    ok, tokens, steps, scored = bounded.stdout.split()[-4:]
    assert (ok, int(steps)) == ("OK", 8)
    assert 700 <= int(tokens) <= 720
    assert int(scored) >= int(tokens) - 2  # every token scored but the held first one
    unbounded = run_capped("16")
    assert unbounded.returncode == 3, unbounded.stdout + unbounded.stderr[-2000:]
    assert "FAILED" in unbounded.stdout
