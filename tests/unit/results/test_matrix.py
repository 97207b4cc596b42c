"""The attribution matrix: many rows at once equal one row at a time; objectives that run."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import whyword as ww
from tests.tolerances import (
    CHAINED_LOG_PROB,
    LOG_PROB,
    PROBABILITY,
    SAME_ARITHMETIC,
    TINY_FP32,
    assert_close,
    assert_close_fields,
    for_scores,
)
from whyword.models.encoding import encode

PROMPT = "The keys to the cabinet are on the table"
METHODS = (
    "saliency",
    "input_x_gradient",
    "integrated_gradients",
    "smoothgrad",
    "occlusion",
    "attnlrp",
)
pytestmark = pytest.mark.numerics  # nearly every test compares numbers: routes, formulas
FAST_IG = {"n_steps": 8, "nodes_per_interval": 4, "max_steps": 32, "nt_samples": 3}


def ids_of(lm, text: str = PROMPT) -> tuple[int, ...]:
    return encode(lm, text).ids


def test_every_row_equals_its_own_one_row_matrix(tiny_gpt2):
    """Rows computed together (batched calls) equal each row computed alone, every method."""
    ids = ids_of(tiny_gpt2)
    outputs = [ww.Output(position=p) for p in (2, 4, len(ids) - 1)]
    together = ww.attribute(tiny_gpt2, ids, outputs, METHODS, **FAST_IG)
    assert together.shape == (3, len(ids))
    for r, out in enumerate(outputs):
        alone = ww.attribute(tiny_gpt2, ids, out, METHODS, **FAST_IG)
        numbers = ("value", "target_log_prob")
        assert_close_fields(together.outputs[r], alone.outputs[0], LOG_PROB, numbers)
        for m in METHODS:
            assert_close(together.scores(m)[r], alone.scores(m)[0], for_scores(m, TINY_FP32), m)


def test_rows_share_calls_under_a_small_budget_and_give_the_same_scores(tiny_gpt2):
    """Batch size follows the budget, not the rows: 1 row per call = many rows per call."""
    ids = ids_of(tiny_gpt2)
    outputs = [ww.Output(position=p) for p in range(1, len(ids))]
    big = ww.attribute(tiny_gpt2, ids, outputs, ("saliency", "integrated_gradients"), **FAST_IG)
    one = ww.attribute(
        tiny_gpt2,
        ids,
        outputs,
        ("saliency", "integrated_gradients"),
        internal_batch_size=2,
        **FAST_IG,
    )
    for m in ("saliency", "integrated_gradients"):
        assert_close(big.scores(m), one.scores(m), TINY_FP32, m)


def test_causal_rows_mark_later_tokens_not_in_context(tiny_gpt2):
    ids = ids_of(tiny_gpt2)
    m = ww.attribute(tiny_gpt2, ids, [ww.Output(position=2)], ("saliency", "occlusion"))
    for name in ("saliency", "occlusion"):
        row = m.scores(name)[0]
        assert not np.isnan(row[:3]).any()
        assert np.isnan(row[3:]).all(), "later tokens are out of context, not a 0 score"
    assert m.context[0] == tuple(i <= 2 for i in range(len(ids)))
    # the default target of an earlier position is the token that actually came next
    assert m.outputs[0].target_ids == (ids[3],)
    back = ww.AttributionMatrix.from_json(m.to_json())
    assert back.outputs == m.outputs and back.context == m.context
    np.testing.assert_array_equal(back.scores("saliency"), m.scores("saliency"))


def test_a_row_equals_a_hand_written_gradient(tiny_gpt2):
    """Saliency of position p's next token = ‖∂ log p(ids[p+1] | ids[:p+1]) / ∂e‖ by hand."""
    ids = ids_of(tiny_gpt2)
    p = 3
    m = ww.attribute(tiny_gpt2, ids, [ww.Output(position=p)], ("input_x_gradient",))
    x = tiny_gpt2.embed(torch.tensor([ids])).detach().requires_grad_()  # (1, T, H)
    logits = tiny_gpt2.model(inputs_embeds=x, use_cache=False).logits[0, p]  # (V,)
    lp = torch.log_softmax(logits, -1)[ids[p + 1]]
    (grad,) = torch.autograd.grad(lp, x)  # (1, T, H)
    expected = (grad[0] * x[0]).sum(-1).detach().numpy()  # (T,)
    assert_close(m.scores("input_x_gradient")[0][: p + 1], expected[: p + 1], TINY_FP32)
    np.testing.assert_allclose(expected[p + 1 :], 0.0, atol=1e-7)
    assert_close(m.outputs[0].value, float(lp.detach()), LOG_PROB)


def test_explain_is_the_one_row_matrix(tiny_gpt2):
    text = "The capital of France is"
    e = ww.explain(text, methods=("saliency", "integrated_gradients"), model=tiny_gpt2, **FAST_IG)
    m = ww.attribute(
        tiny_gpt2,
        ids_of(tiny_gpt2, text),
        ww.Output(target=e.target_ids),
        ("saliency", "integrated_gradients"),
        **FAST_IG,
    )
    for a in e.attributions:
        assert_close(a.scores, m.scores(a.method)[0], SAME_ARITHMETIC, a.method)
    assert_close(e.value, m.outputs[0].value, SAME_ARITHMETIC)
    ig = m.method("integrated_gradients").completeness[0]
    assert_close(e.attribution("integrated_gradients").convergence_delta, ig.delta, SAME_ARITHMETIC)


@pytest.mark.parametrize("objective", ["log_prob", "probability", "logit"])
def test_objectives_equal_their_formula(tiny_gpt2, objective):
    ids = ids_of(tiny_gpt2)
    target = 7
    m = ww.attribute(tiny_gpt2, ids, ww.Output(target=target, objective=objective), "saliency")
    with torch.no_grad():
        logits = tiny_gpt2.model(input_ids=torch.tensor([ids])).logits[0, -1]  # (V,)
    lp = float(torch.log_softmax(logits, -1)[target])
    expected = {"log_prob": lp, "probability": math.exp(lp), "logit": float(logits[target])}
    assert_close(m.outputs[0].value, expected[objective], TINY_FP32)
    assert_close(m.outputs[0].target_log_prob, lp, LOG_PROB)


def test_contrastive_foil_of_another_length_on_a_causal_model(tiny_gpt2):
    """log p(target) − log p(foil), each teacher-forced: the foil may have more tokens."""
    ids = ids_of(tiny_gpt2)
    one = ww.attribute(tiny_gpt2, ids, ww.Output(target=7), "saliency").outputs[0]
    two = ww.attribute(tiny_gpt2, ids, ww.Output(target=(9, 11)), "saliency").outputs[0]
    both = ww.attribute(tiny_gpt2, ids, ww.Output(target=7, foil=(9, 11)), "saliency").outputs[0]
    assert both.objective == "contrastive"
    assert_close(both.value, one.value - two.value, LOG_PROB)


def test_a_user_defined_objective_runs_through_every_method(tiny_gpt2):
    """register_objective: −log p (surprisal) — every score flips sign against log_prob."""
    ww.register_objective("surprisal_test", lambda s: -s.target_log_prob, "−log p(target)")
    ids = ids_of(tiny_gpt2)
    signed = ("input_x_gradient", "occlusion")
    a = ww.attribute(tiny_gpt2, ids, ww.Output(target=7), signed)
    b = ww.attribute(tiny_gpt2, ids, ww.Output(target=7, objective="surprisal_test"), signed)
    for m in signed:
        assert_close(b.scores(m), -a.scores(m), SAME_ARITHMETIC, m)  # −F: the same sums
    assert b.outputs[0].formula == "−log p(target)"


def test_a_user_defined_method_is_registered_and_batched(tiny_gpt2):
    """register_method: the gradient's L1 norm, run over R rows, returns an (R, T) matrix."""
    from whyword.attr import MethodOutput

    def l1(problem, params):
        (grad,) = torch.autograd.grad(
            problem.forward(problem.inputs, *problem.args()).sum(), problem.inputs
        )
        return MethodOutput(grad.abs().sum(-1))  # (R, T)

    ww.register_method("l1_test", l1, label="Gradient L1", signed=False)
    ids = ids_of(tiny_gpt2)
    m = ww.attribute(tiny_gpt2, ids, [ww.Output(position=2), ww.Output()], ("l1_test", "saliency"))
    assert m.shape == (2, len(ids)) and m.method("l1_test").signed is False
    assert (np.nan_to_num(m.scores("l1_test")) >= np.nan_to_num(m.scores("saliency")) - 1e-6).all()
    with pytest.raises(ww.InputError, match="Unknown method"):
        ww.attribute(tiny_gpt2, ids, ww.Output(), "no_such_method")


def test_masked_rows_attribute_to_every_token(tiny_bert):
    ids = encode(tiny_bert, "The capital of [MASK] is Paris.").ids
    m = ww.attribute(tiny_bert, ids, ww.Output(), ("saliency", "occlusion"))
    assert all(m.context[0]) and not np.isnan(m.scores("saliency")).any()
    assert m.outputs[0].position == ids.index(tiny_bert.tokenizer.mask_token_id)


def test_infill_posterior_is_what_the_bars_show(tiny_gpt2):
    """One probability per target: the bar's, the status line's and the attributed one."""
    text = "The capital of [MASK] is Paris."
    e = ww.explain(text, methods=("saliency",), model=tiny_gpt2)
    bar = e.predictions[0].candidates[0]
    assert e.objective == "infill_posterior"
    assert_close(e.target_probability, bar.probability, PROBABILITY)
    assert_close(e.value, bar.log_prob, CHAINED_LOG_PROB)
    # second route: the joint scores of predict's infill rescoring, normalised by hand
    from whyword.engine.predict import infill_scores

    enc = encode(tiny_gpt2, text)
    pool = e.predictions[0].pool
    joint = infill_scores(tiny_gpt2, enc, [(c,) for c in pool])  # (N,)
    by_hand = joint[pool.index(bar.token_id)] - torch.logsumexp(joint, 0)
    assert_close(e.value, float(by_hand), CHAINED_LOG_PROB)
    second = e.predictions[0].candidates[1]
    e2 = ww.explain(text, target=second.token_id, methods=("saliency",), model=tiny_gpt2)
    assert_close(e2.target_probability, second.probability, PROBABILITY)


def test_ig_notes_only_when_ig_ran(tiny_gpt2):
    no_ig = ww.explain("The capital of France is", methods=("saliency",), model=tiny_gpt2)
    assert not any("IG" in n for n in no_ig.notes) and no_ig.held == ()
    ig = ww.explain(
        "The capital of France is", methods=("integrated_gradients",), model=tiny_gpt2, **FAST_IG
    )
    assert any("IG baseline holds" in n for n in ig.notes) and ig.held == (0,)


def test_bad_outputs_are_one_sentence(tiny_gpt2):
    ids = ids_of(tiny_gpt2)
    with pytest.raises(ww.InputError, match="outside the input"):
        ww.attribute(tiny_gpt2, ids, ww.Output(position=len(ids)), "saliency")
    with pytest.raises(ww.TargetError, match="out of range"):
        ww.attribute(tiny_gpt2, ids, ww.Output(target=10**9), "saliency")
    with pytest.raises(ww.InputError, match="at least one output"):
        ww.attribute(tiny_gpt2, ids, [], "saliency")


def test_word_and_sentence_levels_sum_the_token_scores(tiny_gpt2):
    text = "The capital of France is big. The keys are"
    e = ww.explain(text, methods=("input_x_gradient", "saliency"), model=tiny_gpt2)
    words = e.segmentation("word")
    assert words.labels == (
        "The",
        "capital",
        "of",
        "France",
        "is",
        "big",
        ".",
        "The",
        "keys",
        "are",
    )
    ixg, sal = e.attribution("input_x_gradient"), e.attribution("saliency")
    for k, seg in enumerate(words.segments):
        assert e.segment_scores("input_x_gradient")[k] == pytest.approx(
            sum(ixg.scores[i] for i in seg.tokens)
        )
        assert e.segment_scores("saliency")[k] == pytest.approx(
            math.sqrt(sum(sal.scores[i] ** 2 for i in seg.tokens))
        )
    assert len(e.segmentation("sentence").segments) == 2
    assert ww.Explanation.from_json(e.to_json()).segmentations == e.segmentations


def test_matrix_segments_keep_not_in_context_cells(tiny_gpt2):
    text = "The capital of France is big"
    ids = ids_of(tiny_gpt2, text)
    m = ww.attribute(
        tiny_gpt2, ids, [ww.Output(position=1), ww.Output()], "input_x_gradient", "word", text=text
    )
    words = m.segment_scores("input_x_gradient", "word")  # (2, S)
    tokens = m.scores("input_x_gradient")
    assert words.shape == (2, len(m.segmentation("word").segments))
    np.testing.assert_allclose(np.nansum(words, axis=1), np.nansum(tokens, axis=1), atol=1e-9)
    assert np.isnan(words[0, 2:]).all() and not np.isnan(words[1]).any()
    frame = m.to_dataframe(level="word")
    assert set(frame["word"]) == {"The", "capital", "of", "France", "is", "big"}
    back = ww.AttributionMatrix.from_json(m.to_json())
    assert back.segmentations == m.segmentations


def test_an_explanation_at_word_level_is_an_explanation_of_words(tiny_gpt2):
    text = "The capital of France is big. The keys are"
    e = ww.explain(text, methods=("input_x_gradient", "integrated_gradients"), model=tiny_gpt2)
    w = e.at_level("word")
    assert [t.label for t in w.tokens] == list(e.segmentation("word").labels)
    assert w.attribution("input_x_gradient").scores == e.segment_scores("input_x_gradient")
    assert w.held == (0,)  # the first word holds the held first token
    assert e.at_level("token") is e
