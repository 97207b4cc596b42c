"""The per-step attribution matrix of a generation: every row is the one-row attribution of its
step, later tokens are out of context, and each row's value is the step's raw log-prob."""

from __future__ import annotations

import numpy as np
import pytest

from tests.tolerances import CHAINED_LOG_PROB, DEFAULT_MODEL_LOG_PROB, TINY_FP32, assert_close
from whyword import InputError, Output, attribute, generate
from whyword.tasks.steps import WHY_TEACHER_FORCED

PROMPT = "The capital of France is"
STRATEGIES = {
    "greedy": {},
    "sample": {"strategy": "sample", "temperature": 0.7, "top_k": 40, "seed": 3},
    "beam": {"strategy": "beam", "num_beams": 3},
}


def continuation(lm, n: int = 6, **kwargs):
    return generate(PROMPT, max_new_tokens=n, model=lm, **kwargs)


@pytest.mark.numerics
@pytest.mark.parametrize("method", ["saliency", "integrated_gradients"])
def test_each_row_equals_a_one_row_attribute_of_its_position(tiny_gpt2, method):
    gen = continuation(tiny_gpt2)
    matrix = gen.attribute(method, model=tiny_gpt2)
    ids = tuple(t.id for t in gen.prompt) + gen.token_ids
    scores = matrix.scores(method)  # (S, T)
    assert scores.shape == (len(gen.steps), len(ids))
    for s in range(len(gen.steps)):
        position = len(gen.prompt) - 1 + s
        alone = attribute(tiny_gpt2, ids, Output(position=position), method)
        assert alone.outputs[0].target_ids == (gen.token_ids[s],)  # the token that came next
        assert_close(scores[s], alone.scores(method)[0], TINY_FP32, f"step {s}")
        assert matrix.outputs[s].position == position


def test_later_tokens_are_not_in_context(tiny_gpt2):
    gen = continuation(tiny_gpt2)
    matrix = gen.attribute("saliency", model=tiny_gpt2)
    scores = matrix.scores("saliency")  # (S, T)
    p = len(gen.prompt)
    assert [t.id for t in matrix.tokens] == [t.id for t in gen.prompt] + list(gen.token_ids)
    for s in range(len(gen.steps)):
        # step s+1 was read at token p-1+s: it sees the prompt and the s tokens before it
        assert not np.isnan(scores[s, : p + s]).any()
        assert np.isnan(scores[s, p + s :]).all()
        assert matrix.context[s] == tuple(i < p + s for i in range(len(matrix.tokens)))


@pytest.mark.numerics
@pytest.mark.parametrize("name", STRATEGIES)
def test_row_values_are_the_steps_raw_log_probs(tiny_gpt2, name):
    gen = continuation(tiny_gpt2, **STRATEGIES[name])
    matrix = gen.attribute("saliency", model=tiny_gpt2)
    assert len(matrix.outputs) == len(gen.steps)
    for row, step in zip(matrix.outputs, gen.steps, strict=True):
        assert row.objective == "log_prob"
        assert row.target_ids == (step.token.id,)
        assert_close(row.value, step.raw_log_prob, CHAINED_LOG_PROB)  # vs generate's
    if name == "sample":  # the warped distribution differs, and the rows do not follow it
        assert max(abs(s.log_prob - s.raw_log_prob) for s in gen.steps) > 1e-2


def test_the_note_says_why_generate_is_not_differentiated(tiny_gpt2):
    matrix = continuation(tiny_gpt2, n=2).attribute("saliency", model=tiny_gpt2)
    assert WHY_TEACHER_FORCED in matrix.notes
    assert "no gradient" in WHY_TEACHER_FORCED


def test_another_model_is_refused(tiny_gpt2, tiny_bert):
    gen = continuation(tiny_gpt2, n=2)
    with pytest.raises(InputError, match="generation came from"):
        gen.attribute("saliency", model=tiny_bert)


@pytest.mark.numerics
@pytest.mark.slow
def test_on_the_default_model_rows_are_the_raw_log_probs_of_the_kept_beam(smol):
    gen = generate(PROMPT, max_new_tokens=4, strategy="beam", num_beams=3, model=smol)
    matrix = gen.attribute("saliency")  # the default model, by default
    values = [row.value for row in matrix.outputs]
    assert_close(values, [s.raw_log_prob for s in gen.steps], DEFAULT_MODEL_LOG_PROB)
    assert matrix.outputs[0].target == " Paris"
