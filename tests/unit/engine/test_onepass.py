"""One forward+backward for a gradient method's explain, with the same numbers as before."""

from __future__ import annotations

import pytest
import torch
from captum.attr import InputXGradient, Saliency

import whyword as ww
from tests.tiny import count_forwards
from tests.tolerances import LOG_PROB, TINY_FP32, assert_close
from whyword.engine.cache import RESULTS
from whyword.engine.predict import predictions as separate_predictions
from whyword.models.encoding import encode

TEXT = "The capital of France is"


@pytest.mark.parametrize("methods", [("saliency",), ("saliency", "input_x_gradient")])
def test_a_gradient_explain_runs_the_model_once(tiny_gpt2, methods):
    RESULTS.clear()
    e, n = count_forwards(tiny_gpt2, lambda: ww.explain(TEXT, methods=methods, model=tiny_gpt2))
    assert n == 1  # predictions, F(x), log p(target) and ∂F/∂x: one forward (+ its backward)
    assert len(e.attributions) == len(methods)


def test_retargeting_with_given_predictions_runs_the_model_once(tiny_gpt2):
    RESULTS.clear()
    first = ww.explain(TEXT, methods="saliency", model=tiny_gpt2)
    second = first.predictions[0].candidates[1].token_id
    run = lambda: ww.explain(  # noqa: E731
        TEXT, second, methods="saliency", model=tiny_gpt2, predictions=first.predictions
    )
    e, n = count_forwards(tiny_gpt2, run)
    assert n == 1 and e.target_ids == (second,)


def _separate(lm, target=None, foil=None, methods=("saliency", "input_x_gradient")):
    """The previous route: predictions from their own no-grad forward, passed in."""
    RESULTS.clear()
    preds = separate_predictions(lm, encode(lm, TEXT), 10)
    return ww.explain(TEXT, target, foil, methods=methods, model=lm, predictions=preds)


@pytest.mark.numerics
@pytest.mark.parametrize("foil", [None, 1])  # log p(target), and contrastive with a foil
def test_one_pass_numbers_match_the_separate_route(tiny_gpt2, foil):
    RESULTS.clear()
    folded = ww.explain(TEXT, None, foil, ("saliency", "input_x_gradient"), tiny_gpt2)
    apart = _separate(tiny_gpt2, folded.target_ids[0], foil)
    assert folded.target_ids == apart.target_ids
    for a, b in zip(folded.predictions[0].candidates, apart.predictions[0].candidates, strict=True):
        assert a.token_id == b.token_id
        assert_close(a.log_prob, b.log_prob, LOG_PROB)
    assert_close(folded.value, apart.value, LOG_PROB)
    assert_close(folded.target_log_prob, apart.target_log_prob, LOG_PROB)
    for a, b in zip(folded.attributions, apart.attributions, strict=True):
        assert_close(a.scores, b.scores, TINY_FP32, a.method)


@pytest.mark.numerics
def test_input_gradients_equal_captums_saliency_and_input_x_gradient(tiny_gpt2):
    from whyword.attr.problem import input_gradients
    from whyword.engine.problems import build_problem
    from whyword.tasks.explain import row_for

    enc = encode(tiny_gpt2, TEXT)
    (slot,) = separate_predictions(tiny_gpt2, enc, 3)
    row = row_for(tiny_gpt2, enc, (slot.candidates[0].token_id,), None, 0, slot)
    p = build_problem(tiny_gpt2, row.target.ids, [row], ww.ExplainOptions(), uses_ig=False)
    values, grads = input_gradients(p)  # (1,), (1, T, H)
    with torch.enable_grad():
        ref = Saliency(p.forward).attribute(p.inputs, abs=False, additional_forward_args=p.args())
        ixg = InputXGradient(p.forward).attribute(p.inputs, additional_forward_args=p.args())
        f = p.forward(p.inputs.detach(), *p.args())  # (1,)
    assert_close(grads, ref, TINY_FP32, "gradients")
    assert_close(p.inputs.detach() * grads, ixg, TINY_FP32, "input x gradient")
    assert_close(values, f, TINY_FP32, "F")


@pytest.mark.numerics
def test_a_multi_token_target_falls_back_to_the_methods_own_pass(tiny_gpt2):
    RESULTS.clear()
    folded = ww.explain(TEXT, " capital of", methods="saliency", model=tiny_gpt2)
    apart = _separate(tiny_gpt2, " capital of", methods=("saliency",))
    assert len(folded.target_ids) > 1
    assert_close(folded.value, apart.value, LOG_PROB)
    assert_close(folded.attributions[0].scores, apart.attributions[0].scores, TINY_FP32)


@pytest.mark.numerics
def test_attnlrp_gives_the_rows_value_from_its_own_forward(tiny_gpt2):
    from whyword.attr import attnlrp as lrp

    if not lrp.lxt_installed():
        pytest.skip("lxt is not installed")
    RESULTS.clear()
    e, n = count_forwards(tiny_gpt2, lambda: ww.explain(TEXT, methods="attnlrp", model=tiny_gpt2))
    apart = _separate(tiny_gpt2, e.target_ids[0], methods=("saliency",))
    assert n == 2  # the predictions, then AttnLRP's forward (no separate pass for F(x))
    assert_close(e.value, apart.value, LOG_PROB)
    assert_close(e.target_log_prob, apart.target_log_prob, LOG_PROB)
