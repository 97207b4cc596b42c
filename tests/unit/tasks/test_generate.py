"""Generation: the per-step log-probs equal transformers' `compute_transition_scores` on the same
call (greedy, seeded sampling, beam search), raw ones equal a teacher-forced forward, and seeds
repeat."""

from __future__ import annotations

import json
import math

import pytest
import torch

from tests.tolerances import (
    CHAINED_LOG_PROB,
    HF_FP32_TRANSITIONS,
    LOG_PROB,
    Tolerance,
    assert_close,
)
from whyword import GenerateOptions, InputError, generate
from whyword.tasks.generate import generation_from_output, prompt_ids, run_generate

PROMPT = "The capital of France is"
STRATEGIES = {
    "greedy": {},
    "sample": {"strategy": "sample", "temperature": 0.8, "top_k": 50, "top_p": 0.9, "seed": 1},
    "beam": {"strategy": "beam", "num_beams": 4},
}


def one_call(lm, n: int = 12, **kwargs):
    """One `model.generate` output and the `Generation` built from it."""
    opts = GenerateOptions(max_new_tokens=n, **kwargs)
    ids = prompt_ids(lm, PROMPT, n)
    with lm.lock:
        out = run_generate(lm, ids, opts)
    return ids, out, generation_from_output(lm, ids, out, opts)


def transition_scores(lm, out, scores, dtype=torch.float32) -> torch.Tensor:
    """transformers' own per-step log-probs (normalised) for the kept sequence."""
    return lm.model.compute_transition_scores(
        out.sequences,
        tuple(s.to(dtype) for s in scores),
        getattr(out, "beam_indices", None),
        normalize_logits=True,
    )[0]  # (S,)


def assert_transition_scores(lm, out, gen, tol: Tolerance, dtype=torch.float32) -> None:
    """Both columns of the step table against transformers' compute_transition_scores."""
    warped = torch.tensor([s.log_prob for s in gen.steps], dtype=torch.float64)  # (S,)
    raw = torch.tensor([s.raw_log_prob for s in gen.steps], dtype=torch.float64)  # (S,)
    assert_close(warped, transition_scores(lm, out, out.scores, dtype), tol, "warped")
    assert_close(raw, transition_scores(lm, out, out.logits, dtype), tol, "raw")


@pytest.mark.numerics
@pytest.mark.parametrize("name", STRATEGIES)
def test_log_probs_equal_compute_transition_scores(tiny_gpt2, name):
    _, out, gen = one_call(tiny_gpt2, **STRATEGIES[name])
    assert_transition_scores(tiny_gpt2, out, gen, LOG_PROB)
    if name == "beam":
        assert out.beam_indices is not None and int(out.beam_indices.max()) > 0  # beams switched


@pytest.mark.numerics
@pytest.mark.parametrize("name", STRATEGIES)
def test_a_text_that_ends_early_still_equals_compute_transition_scores(
    tiny_gpt2, monkeypatch, name
):
    _, _, free = one_call(tiny_gpt2, **STRATEGIES[name])
    end = free.token_ids[2]  # make the third token the end-of-text token
    monkeypatch.setattr(tiny_gpt2.model.generation_config, "eos_token_id", end)
    _, out, gen = one_call(tiny_gpt2, **STRATEGIES[name])
    assert (gen.stopped == "eos") == (gen.token_ids[-1] == end)
    assert end not in gen.token_ids[:-1]
    if name != "beam":  # beam search may prefer a hypothesis that never ends
        assert gen.stopped == "eos" and len(gen.steps) < 12
        assert gen.token_ids == free.token_ids[: free.token_ids.index(end) + 1]
    assert_transition_scores(tiny_gpt2, out, gen, LOG_PROB)


@pytest.mark.numerics
def test_raw_log_probs_equal_a_teacher_forced_forward(tiny_gpt2):
    ids, out, gen = one_call(tiny_gpt2, **STRATEGIES["sample"])
    seq = out.sequences  # (1, T+S)
    with torch.no_grad():
        logits = tiny_gpt2.model(input_ids=seq).logits[0, len(ids) - 1 : -1]  # (S, V)
    ref = torch.log_softmax(logits.double(), -1).gather(-1, seq[0, len(ids) :, None])  # (S, 1)
    raw = torch.tensor([s.raw_log_prob for s in gen.steps], dtype=torch.float64)  # (S,)
    assert_close(raw, ref[:, 0], CHAINED_LOG_PROB)  # step by step with a KV cache vs one pass


def test_greedy_picks_the_top_token_and_nothing_is_warped(tiny_gpt2):
    _, _, gen = one_call(tiny_gpt2)
    assert all(s.rank == 1 and s.raw_rank == 1 for s in gen.steps)
    assert all(s.log_prob == pytest.approx(s.raw_log_prob, abs=1e-9) for s in gen.steps)


def test_top_k_sampling_only_picks_and_spreads_over_the_k_kept_tokens(tiny_gpt2):
    _, _, gen = one_call(tiny_gpt2, n=16, strategy="sample", top_k=3, seed=5)
    for s in gen.steps:
        assert s.rank <= 3 and s.raw_rank <= 3
        assert s.entropy <= math.log2(3) + 1e-9
        assert s.probability >= s.raw_probability - 1e-9  # renormalised over fewer tokens
    assert 0.0 < gen.steps[0].raw_entropy <= math.log2(tiny_gpt2.vocab_size) + 1e-9


def test_same_seed_same_tokens_other_seed_other_tokens(tiny_gpt2):
    kwargs = {"max_new_tokens": 16, "strategy": "sample", "temperature": 1.5, "model": tiny_gpt2}
    first = generate(PROMPT, seed=3, **kwargs)
    again = generate(PROMPT, seed=3, **kwargs)
    other = generate(PROMPT, seed=4, **kwargs)
    assert first.token_ids == again.token_ids and first.steps == again.steps
    assert first.token_ids != other.token_ids
    before = torch.random.get_rng_state()
    generate(PROMPT, seed=9, **kwargs)
    assert torch.equal(before, torch.random.get_rng_state())  # the global RNG is left untouched


def test_result_serialises_and_states_its_distributions(tiny_gpt2):
    gen = generate(PROMPT, max_new_tokens=5, strategy="beam", num_beams=3, model=tiny_gpt2)
    data = json.loads(gen.to_json())
    assert [r["token_id"] for r in data["steps"]] == list(gen.token_ids)
    assert data["options"]["strategy"] == "beam" and "warped" in data["scores_from"]
    frame = gen.to_dataframe()
    assert list(frame.columns[:7]) == [
        "step",
        "token_id",
        "token",
        "log_prob",
        "probability",
        "rank",
        "entropy",
    ]
    assert frame.log_prob.sum() == pytest.approx(gen.log_prob)
    assert len(gen.prompt) == len(prompt_ids(tiny_gpt2, PROMPT, 5))


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"strategy": "nucleus"}, "Unknown strategy"),
        ({"strategy": "sample", "temperature": 0}, "temperature must be above 0"),
        ({"strategy": "sample", "temperature": -1.0}, "temperature"),
        ({"strategy": "sample", "top_p": 0.0}, "top_p must be above 0"),
        ({"strategy": "sample", "top_p": 1.5}, "top_p"),
        ({"strategy": "sample", "top_k": 0}, "top_k"),
        ({"temperature": 0.7}, "sampling only"),
        ({"strategy": "beam", "num_beams": 1}, "num_beams"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_arguments_are_one_sentence(tiny_gpt2, kwargs, words):
    with pytest.raises(InputError, match=words) as info:
        generate(PROMPT, model=tiny_gpt2, **kwargs)
    assert "\n" not in str(info.value)


def test_masked_lm_and_overlong_requests_are_refused(tiny_bert, tiny_gpt2):
    with pytest.raises(InputError, match="cannot generate"):
        generate("the cat sat", model=tiny_bert)
    with pytest.raises(InputError, match="limit of 128"):
        generate(PROMPT, max_new_tokens=200, model=tiny_gpt2)


@pytest.mark.parametrize("name", STRATEGIES)
def test_no_tensor_is_made_off_the_model_device(tiny_gpt2, name):
    from tests.unit.models.test_devices import DeviceProbe

    probe = DeviceProbe()
    with probe:
        one_call(tiny_gpt2, n=4, **STRATEGIES[name])
    assert probe.missing == []


@pytest.mark.numerics
@pytest.mark.slow
@pytest.mark.parametrize("name", STRATEGIES)
def test_default_model_equals_compute_transition_scores(smol, one_torch_thread, name):
    _, out, gen = one_call(smol, n=20, **STRATEGIES[name])
    # Same call, same function, scores in float64
    assert_transition_scores(smol, out, gen, LOG_PROB, torch.float64)
    assert_transition_scores(smol, out, gen, HF_FP32_TRANSITIONS, torch.float32)


@pytest.mark.slow
def test_default_model_greedy_knows_the_capital(smol, one_torch_thread):
    gen = generate(PROMPT, max_new_tokens=3, model=smol)
    assert gen.labels[0] == "␣Paris" and gen.steps[0].probability > 0.5
