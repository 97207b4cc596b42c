"""Step-through generation: the KV-cached next-step distribution equals a full forward's last
position, its warping equals generate's scores, undo restores, auto-complete equals generate."""

from __future__ import annotations

import math

import pytest
import torch

from tests.tolerances import (
    DEFAULT_MODEL_LOG_PROB,
    DISTRIBUTION,
    LOG_PROB,
    TAIL_LOG_PROB,
    Tolerance,
    assert_close,
)
from whyword import InputError, generate
from whyword.runtime.options import GenerateOptions
from whyword.tasks.generate import prompt_ids, run_generate
from whyword.tasks.stepper import KVStore, Session, Warp, auto_complete, last_logits, next_step

PROMPT = "The capital of France is"
WARPS = [Warp(), Warp(temperature=0.7), Warp(top_k=5), Warp(0.8, 50, 0.9), Warp(1.3, None, 0.5)]


def full_forward(lm, ids) -> torch.Tensor:
    with torch.no_grad():
        logits = lm.model(input_ids=torch.tensor([ids]), use_cache=False).logits  # (1, T, V)
    return torch.log_softmax(logits[0, -1].double(), -1)  # (V,)


def check_steps_match_full_forward(lm, log_tol: Tolerance) -> None:
    """Probabilities to DISTRIBUTION; log-probs to `log_tol` (float32 matmuls of other shapes
    differ in the last bits, which the log of a 1e-9 probability magnifies)."""
    store = KVStore(size=4)
    ids = prompt_ids(lm, PROMPT, 1)
    session = Session(lm.name, ids, ids)
    lengths: list[int] = []
    hook = lm.model.register_forward_pre_hook(
        lambda _m, _a, kw: lengths.append(kw["input_ids"].shape[1]), with_kwargs=True
    )
    try:
        with lm.lock:
            last_logits(lm, ids, store)
        for token in (5, 17, 3, 42):
            session = session.append(token)
            with lm.lock:
                stepped = torch.log_softmax(last_logits(lm, session.ids, store).double(), -1)
            full = full_forward(lm, session.ids)  # (V,)
            assert_close(stepped.exp(), full.exp(), DISTRIBUTION, "probabilities")
            assert_close(stepped, full, log_tol, "log-probabilities")
    finally:
        hook.remove()
    assert lengths[0] == len(ids) and lengths[1::2] == [1, 1, 1, 1]  # then one token per step
    assert store.misses == 5 and len(store) == 4


@pytest.mark.numerics
def test_stepped_distribution_equals_a_full_forward(tiny_gpt2) -> None:
    check_steps_match_full_forward(tiny_gpt2, LOG_PROB)


@pytest.mark.numerics
@pytest.mark.slow
def test_stepped_distribution_equals_a_full_forward_on_llama(smol) -> None:
    check_steps_match_full_forward(smol, TAIL_LOG_PROB)


def check_warp_equals_generate_scores(lm, tol: Tolerance) -> None:
    ids = prompt_ids(lm, PROMPT, 3)
    for warp in WARPS:
        opts = GenerateOptions(max_new_tokens=3, strategy="sample", seed=2, **warp.__dict__)
        with lm.lock:
            out = run_generate(lm, ids, opts)
        store = KVStore()  # cached step by step, as generate's own loop is
        for t, score in enumerate(out.scores):
            context = tuple(out.sequences[0, : len(ids) + t].tolist())
            step = next_step(lm, context, warp, k=20, store=store)
            expected = torch.log_softmax(score[0].double(), -1)  # (V,)
            for c in step.choices:
                if c.cut:
                    assert expected[c.token_id] == -math.inf
                else:
                    assert_close(c.log_prob, float(expected[c.token_id]), tol)
            assert step.kept == int(torch.isfinite(score[0]).sum())


@pytest.mark.numerics
def test_warped_equals_generate_scores(tiny_gpt2) -> None:
    check_warp_equals_generate_scores(tiny_gpt2, LOG_PROB)


@pytest.mark.numerics
@pytest.mark.slow
def test_warped_equals_generate_scores_on_llama(smol) -> None:
    check_warp_equals_generate_scores(smol, DEFAULT_MODEL_LOG_PROB)


def test_top_k_and_top_p_cut_off_what_they_should(tiny_gpt2) -> None:
    ids = prompt_ids(tiny_gpt2, PROMPT, 1)
    step = next_step(tiny_gpt2, ids, Warp(top_k=3), k=10)
    assert [c.cut for c in step.choices] == [False] * 3 + [True] * 7 and step.kept == 3
    step = next_step(tiny_gpt2, ids, Warp(top_p=0.2), k=tiny_gpt2.vocab_size)  # a flat model
    raw = [math.exp(c.raw_log_prob) for c in step.choices]
    kept = [not c.cut for c in step.choices]
    first_cut = kept.index(False)
    assert sum(raw[: first_cut - 1]) < 0.2 <= sum(raw[:first_cut]) + 1e-9  # smallest set ≥ p
    warped = sum(math.exp(c.log_prob) for c in step.choices if not c.cut)
    assert abs(warped - 1.0) < 1e-6 and step.kept == first_cut  # the kept carry all the mass


def test_sliders_rewarp_without_a_model_call(tiny_gpt2) -> None:
    store = KVStore()
    ids = prompt_ids(tiny_gpt2, PROMPT, 1)
    first = next_step(tiny_gpt2, ids, Warp(), store=store)
    hotter = next_step(tiny_gpt2, ids, Warp(temperature=2.0), store=store)
    assert store.misses == 1 and store.hits == 1
    assert hotter.entropy > first.entropy and hotter.raw_entropy == first.raw_entropy


def test_undo_restores_the_distribution(tiny_gpt2) -> None:
    store = KVStore()
    ids = prompt_ids(tiny_gpt2, PROMPT, 1)
    session = Session(tiny_gpt2.name, ids, ids)
    before = next_step(tiny_gpt2, session.ids, store=store)
    session = session.append(before.choices[0].token_id)
    next_step(tiny_gpt2, session.ids, store=store)
    session = session.undo()
    assert session.ids == ids and session.undo() == session  # the prompt is never undone
    store.clear()  # even recomputed from scratch, the same distribution comes back
    assert next_step(tiny_gpt2, session.ids, store=store) == before


def test_store_is_bounded(tiny_gpt2) -> None:
    store = KVStore(size=3)
    ids = prompt_ids(tiny_gpt2, PROMPT, 1)
    for token in range(10):
        with tiny_gpt2.lock:
            last_logits(tiny_gpt2, (*ids, token), store)
    assert len(store) == 3


def test_store_is_bounded_in_bytes_too(tiny_gpt2) -> None:
    from whyword.tasks.stepper import cache_bytes

    ids = prompt_ids(tiny_gpt2, PROMPT, 1)
    with tiny_gpt2.lock:
        last_logits(tiny_gpt2, ids, probe := KVStore())
    past, logits = probe.get(probe.key(tiny_gpt2, ids))
    one = cache_bytes(past, logits)
    assert one > logits.nbytes  # the keys and values are counted
    store = KVStore(size=100, max_bytes=int(2.5 * one))
    for token in range(6):
        with tiny_gpt2.lock:
            last_logits(tiny_gpt2, (*ids, token), store)
    assert 1 <= len(store) <= 2 and store.nbytes <= store.max_bytes
    tiny = KVStore(max_bytes=one // 2)  # one prefix larger than the whole store: not kept
    with tiny_gpt2.lock:
        last_logits(tiny_gpt2, ids, tiny)
    assert len(tiny) == 0


@pytest.mark.parametrize("warp", [Warp(), Warp(0.8, 50, 0.9)])
def test_auto_complete_equals_generate(tiny_gpt2, tiny_paths, warp) -> None:
    ids = prompt_ids(tiny_gpt2, PROMPT, 8)
    done = auto_complete(tiny_gpt2, ids, 8, "sample", warp, seed=3, store=KVStore())
    gen = generate(PROMPT, 8, "sample", seed=3, model=tiny_paths["gpt2"], **warp.__dict__)
    assert done[len(ids) :] == gen.token_ids
    greedy = auto_complete(tiny_gpt2, ids, 8, "greedy", store=KVStore())
    assert greedy[len(ids) :] == generate(PROMPT, 8, model=tiny_paths["gpt2"]).token_ids


def test_bad_settings_are_one_sentence(tiny_gpt2, tiny_bert) -> None:
    with pytest.raises(InputError, match="temperature"):
        Warp(temperature=0.0)
    with pytest.raises(InputError, match="masked"):
        next_step(tiny_bert, (1, 2, 3))
    with pytest.raises(InputError, match="at least one token"):
        next_step(tiny_gpt2, ())
