"""Objectives that read the whole distribution at the read position: entropy, margin, and a
user's KL divergence — against the same quantities written by hand in plain torch.

The hand route runs the model on the input embeddings itself and differentiates with
`torch.autograd.grad`; the library's route goes through `attribute` (the batched forward of
whyword/engine/forward.py) or the one-pass route (whyword/engine/onepass.py). Both routes run the same
float32 model on the same input: values agree to VALUE_TOL, gradients (saliency, input ×
gradient) to GRAD_TOL (float rounding of differently batched calls).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import whyword as ww
from whyword.attr.objectives import OBJECTIVES, get_objective, register_objective
from whyword.models.encoding import encode

VALUE_TOL = {"rtol": 1e-5, "atol": 1e-6}
GRAD_TOL = {"rtol": 1e-4, "atol": 1e-7}
CAUSAL_TEXT = "The capital of France is"
MASKED_TEXT = "the capital of [MASK] is paris."


def _entropy(lp: torch.Tensor) -> torch.Tensor:
    return -(lp.exp() * lp).sum(-1)


def _margin(lp: torch.Tensor, first: int) -> torch.Tensor:
    others = torch.cat([lp[:first], lp[first + 1 :]])  # (V-1,)
    return lp[first] - others.max()


def _by_hand(lm, ids, position, f):
    """F = f(log-softmax at `position`) and ∂F/∂(input embeddings) (T, H), in plain torch."""
    x = torch.tensor([ids])  # (1, T)
    embeds = lm.embed(x).detach().requires_grad_()  # (1, T, H)
    kwargs = {"use_cache": False} if lm.kind == "causal" else {}
    with torch.enable_grad():
        logits = lm.model(inputs_embeds=embeds, **kwargs).logits[0, position].float()  # (V,)
        value = f(torch.log_softmax(logits, -1))  # ()
        (grad,) = torch.autograd.grad(value, embeds)  # (1, T, H)
    return float(value.detach()), embeds.detach()[0], grad[0]  # (T, H), (T, H)


@pytest.fixture(params=["causal", "masked"])
def case(request, tiny_gpt2, tiny_bert):
    """(model, ids, read position) for a next-token row and a masked row."""
    if request.param == "causal":
        ids = encode(tiny_gpt2, CAUSAL_TEXT).ids
        return tiny_gpt2, ids, len(ids) - 1
    ids = encode(tiny_bert, MASKED_TEXT).ids
    return tiny_bert, ids, ids.index(tiny_bert.tokenizer.mask_token_id)


def test_entropy_and_its_gradients_match_a_hand_computation(case):
    lm, ids, position = case
    m = ww.attribute(lm, ids, ww.Output(objective="entropy"), ("saliency", "input_x_gradient"))
    value, embeds, grad = _by_hand(lm, ids, position, _entropy)
    assert m.outputs[0].objective == "entropy" and m.outputs[0].position == position
    np.testing.assert_allclose(m.outputs[0].value, value, **VALUE_TOL)
    assert 0 < value < np.log(lm.vocab_size)  # a real spread, below the uniform's
    np.testing.assert_allclose(m.scores("saliency")[0], grad.norm(dim=-1).numpy(), **GRAD_TOL)
    ixg = (embeds * grad).sum(-1).numpy()  # (T,)
    np.testing.assert_allclose(m.scores("input_x_gradient")[0], ixg, **GRAD_TOL)


def test_margin_is_the_first_piece_over_its_best_rival(case):
    """A target of two pieces on the causal model: the margin is its first piece's, read at
    the position that predicts it (the second piece does not enter)."""
    lm, ids, position = case
    target = [7, 11] if lm.kind == "causal" else 7
    out = ww.Output(target=target, objective="margin")
    m = ww.attribute(lm, ids, out, ("saliency", "input_x_gradient"))
    value, embeds, grad = _by_hand(lm, ids, position, lambda lp: _margin(lp, 7))
    np.testing.assert_allclose(m.outputs[0].value, value, **VALUE_TOL)
    np.testing.assert_allclose(m.scores("saliency")[0], grad.norm(dim=-1).numpy(), **GRAD_TOL)
    np.testing.assert_allclose(
        m.scores("input_x_gradient")[0], (embeds * grad).sum(-1).numpy(), **GRAD_TOL
    )


def test_the_margin_of_the_top_one_is_positive_and_of_others_negative(case):
    lm, ids, _ = case
    top = ww.attribute(lm, ids, ww.Output(), "saliency").outputs[0].target_ids[0]
    other = (top + 1) % lm.vocab_size
    rows = [ww.Output(target=t, objective="margin") for t in (top, other)]
    m = ww.attribute(lm, ids, rows, "saliency")
    assert m.outputs[0].value > 0 > m.outputs[1].value
    # the second's rival is the top-1: its margin is the log-prob gap, minus the first's
    gap = m.outputs[1].target_log_prob - m.outputs[0].target_log_prob
    np.testing.assert_allclose(m.outputs[1].value, gap, **VALUE_TOL)


def test_a_user_kl_objective_is_a_few_lines(case):
    """KL(q ‖ p) to a reference q passed by closure, registered by the user: its value and
    gradient equal torch's own `kl_div` differentiated by hand."""
    lm, ids, position = case
    generator = torch.Generator().manual_seed(0)
    reference = torch.log_softmax(torch.randn(lm.vocab_size, generator=generator), -1)  # (V,)

    def kl(s):  # (B, V) log p at the read position -> (B,)
        return (reference.exp() * (reference - s.log_probs)).sum(-1)

    register_objective("kl_test", kl, "KL(q ‖ p)", needs_distribution=True, overwrite=True)
    try:
        m = ww.attribute(lm, ids, ww.Output(objective="kl_test"), "saliency")
    finally:
        OBJECTIVES.pop("kl_test")

    def by_torch(lp):
        return torch.nn.functional.kl_div(lp, reference, log_target=True, reduction="sum")

    value, _, grad = _by_hand(lm, ids, position, by_torch)
    np.testing.assert_allclose(m.outputs[0].value, value, **VALUE_TOL)
    np.testing.assert_allclose(m.scores("saliency")[0], grad.norm(dim=-1).numpy(), **GRAD_TOL)


def test_the_distribution_is_computed_only_when_asked(tiny_gpt2):
    seen = {}

    def spy(name):
        def fn(s):
            seen[name] = s.log_probs
            return s.target_log_prob

        return fn

    ids = encode(tiny_gpt2, CAUSAL_TEXT).ids
    register_objective("plain_test", spy("plain"), "log p")
    register_objective("dist_test", spy("dist"), "log p", needs_distribution=True)
    try:
        rows = [ww.Output(objective="plain_test"), ww.Output(position=2, objective="dist_test")]
        ww.attribute(tiny_gpt2, ids, rows, "saliency")
    finally:
        OBJECTIVES.pop("plain_test")
        OBJECTIVES.pop("dist_test")
    assert seen["plain"] is None
    assert seen["dist"].shape[-1] == tiny_gpt2.vocab_size
    torch.testing.assert_close(seen["dist"].exp().sum(-1), torch.ones(len(seen["dist"])))


def test_the_one_pass_route_gives_the_separate_routes_entropy(tiny_gpt2):
    """shared_gradients reads F off the predictions' logits: the same value and gradient."""
    from whyword.engine.forward import RowSpec, layout_for
    from whyword.engine.onepass import shared_first_pass, shared_gradients

    enc = encode(tiny_gpt2, CAUSAL_TEXT)
    with torch.enable_grad():
        first = shared_first_pass(tiny_gpt2, [enc], 5)
    target = first.predictions[0][0].candidates[0].token_id
    row = RowSpec(layout_for(tiny_gpt2, enc, (target,)), get_objective("entropy"), (target,))
    value, grad = shared_gradients(first, [0], [row])  # (1,), (1, T, H)
    hand, _, hand_grad = _by_hand(tiny_gpt2, enc.ids, len(enc.ids) - 1, _entropy)
    np.testing.assert_allclose(float(value[0]), hand, **VALUE_TOL)
    torch.testing.assert_close(grad[0], hand_grad, **GRAD_TOL)
