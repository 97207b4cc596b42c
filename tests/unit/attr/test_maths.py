"""The maths of the attributions: completeness, hand-written gradients, two routes, axioms."""

from __future__ import annotations

import pytest
import torch

import whyword as ww
from tests.tolerances import (
    CHAINED_LOG_PROB,
    DEFAULT_MODEL_LOG_PROB,
    LOG_PROB,
    SAME_ARITHMETIC,
    SCALED_IG_PREFIX,
    TINY_FP32,
    assert_close,
)
from whyword.engine.problems import reference_embeddings
from whyword.models.encoding import encode

PROMPT = "The capital of France is"
pytestmark = pytest.mark.numerics  # every test here compares numbers: two routes or a reference


def manual_log_prob(lm, embeds: torch.Tensor, target: int) -> torch.Tensor:
    """log p(target | prompt) for a causal LM, written out by hand: (B, T, H) -> (B,)."""
    logits = lm.model(inputs_embeds=embeds, use_cache=False).logits[:, -1]  # (B, V)
    return torch.log_softmax(logits.float(), dim=-1)[:, target]  # (B,)


def prompt_embeds(lm, text: str) -> torch.Tensor:
    ids = torch.tensor([encode(lm, text).ids])  # (1, T)
    return lm.embed(ids).detach()  # (1, T, H)


@pytest.mark.parametrize("model_name", ["gpt2", "bert", "roberta"])
def test_inputs_embeds_route_equals_input_ids_route(tiny_paths, model_name):
    lm = ww.load_model(tiny_paths[model_name])
    text = PROMPT if lm.kind == "causal" else "The capital of [MASK] is Paris."
    ids = torch.tensor([encode(lm, text).ids])  # (1, T)
    with torch.no_grad():
        by_ids = lm.model(input_ids=ids).logits  # (1, T, V)
        by_embeds = lm.model(inputs_embeds=lm.embed(ids)).logits  # (1, T, V)
    assert_close(by_embeds, by_ids, SAME_ARITHMETIC)  # the ids route embeds, then the same


@pytest.mark.slow
def test_inputs_embeds_route_on_default_model(smol):
    ids = torch.tensor([encode(smol, PROMPT).ids])  # (1, T)
    with torch.no_grad():
        by_ids = smol.model(input_ids=ids).logits  # (1, T, V)
        by_embeds = smol.model(inputs_embeds=smol.embed(ids)).logits  # (1, T, V)
    assert_close(by_embeds, by_ids, SAME_ARITHMETIC)


def test_saliency_and_input_x_gradient_equal_hand_written_autograd(tiny_gpt2):
    e = ww.explain(PROMPT, methods=("saliency", "input_x_gradient"), model=tiny_gpt2)
    assert len(e.target_ids) == 1, "the hand-written check below scores one token"
    embeds = prompt_embeds(tiny_gpt2, PROMPT).requires_grad_()  # (1, T, H)
    (grad,) = torch.autograd.grad(manual_log_prob(tiny_gpt2, embeds, e.target_ids[0]).sum(), embeds)
    expected_saliency = grad[0].norm(dim=-1)  # (T,)
    expected_ixg = (grad[0] * embeds[0]).sum(dim=-1)  # (T,)
    assert_close(e.attribution("saliency").scores, expected_saliency, TINY_FP32)
    assert_close(e.attribution("input_x_gradient").scores, expected_ixg, TINY_FP32)


@pytest.mark.parametrize("model_name", ["gpt2", "bert"])
def test_fixed_step_ig_completeness_shrinks_with_steps(tiny_paths, model_name):
    lm = ww.load_model(tiny_paths[model_name])
    text = PROMPT if lm.kind == "causal" else "The capital of [MASK] is Paris."
    errors = []
    for steps in (2, 8, 64):
        e = ww.explain(
            text, methods=("integrated_gradients",), model=lm, n_steps=steps, adaptive=False
        )
        errors.append(e.attribution("integrated_gradients").relative_error)
    assert errors[-1] <= 0.01, errors
    assert errors[-1] < errors[0], errors


@pytest.mark.slow
def test_reported_delta_is_an_independent_completeness_gap(smol):
    """delta == sum(scores) − (F(x) − F(baseline)), F computed here by hand."""
    e = ww.explain(
        PROMPT,
        target=" Paris",
        methods=("integrated_gradients",),
        model=smol,
        n_steps=32,
        adaptive=False,
    )
    a = e.attribution("integrated_gradients")
    x = prompt_embeds(smol, PROMPT)  # (1, T, H)
    baseline = reference_embeddings(smol, x.shape[1], "zero")  # (1, T, H)
    baseline[:, 0] = x[:, 0]  # the first token is held at its real embedding
    with torch.no_grad():
        f = manual_log_prob(smol, torch.cat([x, baseline]), e.target_ids[0])  # (2,)
    gap = float(f[0] - f[1])
    assert_close(a.convergence_delta, sum(a.scores) - gap, DEFAULT_MODEL_LOG_PROB)
    assert a.relative_error == pytest.approx(abs(a.convergence_delta) / abs(gap), rel=1e-3)
    assert a.scores[0] == 0.0  # held token: no path, no score
    assert_close(a.f_input, float(f[0]), DEFAULT_MODEL_LOG_PROB)  # against a hand-written F
    assert_close(a.f_input, e.target_log_prob, DEFAULT_MODEL_LOG_PROB)


@pytest.mark.slow
def test_adaptive_ig_meets_its_tolerance_on_default_model(smol):
    e = ww.explain(PROMPT, methods=("integrated_gradients",), model=smol)
    a = e.attribution("integrated_gradients")
    assert a.relative_error <= 0.05, f"{a.relative_error:.3f} after {a.steps} steps"
    assert ww.ExplainOptions().n_steps <= a.steps <= a.params.max_steps


def test_no_gradient_left_on_parameters_and_no_graph_in_results(tiny_bert):
    e = ww.explain(
        "The capital of [MASK] is Paris.",
        methods=tuple(m for m in ww.METHODS if m != "attnlrp"),  # no LXT rules for BERT
        model=tiny_bert,
        n_steps=8,
    )
    for p in tiny_bert.model.parameters():
        assert p.grad is None and not p.requires_grad
    assert all(isinstance(s, float) for a in e.attributions for s in a.scores)


def test_same_request_gives_same_scores(tiny_gpt2):
    kwargs = dict(methods=tuple(ww.METHODS), model=tiny_gpt2, n_steps=8, nt_samples=4, noise=0.2)
    first = ww.explain(PROMPT, **kwargs)
    torch.manual_seed(1234)  # global RNG state must not matter: SmoothGrad is seeded
    second = ww.explain(PROMPT, **kwargs)
    assert [a.scores for a in first.attributions] == [a.scores for a in second.attributions]
    other_seed = ww.explain(PROMPT, **{**kwargs, "seed": 7})
    assert other_seed.attribution("smoothgrad").scores != first.attribution("smoothgrad").scores


@pytest.mark.parametrize("model_name", ["gpt2", "bert"])
def test_swapping_target_and_foil_flips_every_signed_score(tiny_paths, model_name):
    lm = ww.load_model(tiny_paths[model_name])
    text = PROMPT if lm.kind == "causal" else "The capital of [MASK] is here."
    methods = ("input_x_gradient", "integrated_gradients", "occlusion", "saliency")
    ab = ww.explain(text, target="paris", foil="rome", methods=methods, model=lm, n_steps=16)
    ba = ww.explain(text, target="rome", foil="paris", methods=methods, model=lm, n_steps=16)
    # log p(a) − log p(b) against log p(b) − log p(a): the same sums, negated
    assert_close(ab.value, -ba.value, SAME_ARITHMETIC)
    for name in methods[:3]:
        ba_scores = [-s for s in ba.attribution(name).scores]
        assert_close(ab.attribution(name).scores, ba_scores, SAME_ARITHMETIC, name)
    saliency = ab.attribution("saliency").scores, ba.attribution("saliency").scores
    assert_close(*saliency, SAME_ARITHMETIC, "saliency")


def test_multi_token_target_is_the_teacher_forced_sum(tiny_gpt2):
    e = ww.explain(PROMPT, target=" unicorns", methods=("saliency",), model=tiny_gpt2)
    assert len(e.target_ids) > 1
    ids = list(encode(tiny_gpt2, PROMPT).ids)
    expected = 0.0
    with torch.no_grad():
        for t in e.target_ids:
            logits = tiny_gpt2.model(input_ids=torch.tensor([ids])).logits[0, -1]  # (V,)
            expected += float(torch.log_softmax(logits, -1)[t])
            ids.append(t)
    assert_close(e.target_log_prob, expected, CHAINED_LOG_PROB)
    assert len(e.tokens) == len(encode(tiny_gpt2, PROMPT).ids)  # the continuation is not attributed


def test_occlusion_equals_replacing_one_token(tiny_gpt2):
    e = ww.explain(PROMPT, methods=("occlusion",), model=tiny_gpt2)
    x = prompt_embeds(tiny_gpt2, PROMPT)  # (1, T, H)
    with torch.no_grad():
        full = float(manual_log_prob(tiny_gpt2, x, e.target_ids[0]))
        for i, score in enumerate(e.attribution("occlusion").scores):
            occluded = x.clone()
            occluded[:, i] = 0.0
            occluded_f = float(manual_log_prob(tiny_gpt2, occluded, e.target_ids[0]))
            assert_close(score, full - occluded_f, LOG_PROB)


def test_ig_first_pass_runs_the_default_steps(tiny_gpt2):
    """The first pass alone must already be a credible IG (≥ 32 steps); refinement only adds."""
    opts = ww.ExplainOptions()
    assert opts.n_steps >= 32
    e = ww.explain(PROMPT, methods=("integrated_gradients",), model=tiny_gpt2)
    a = e.attribution("integrated_gradients")
    assert a.relative_error <= opts.ig_tolerance  # met by the first pass: nothing refined
    assert a.steps == opts.n_steps


def _problem(lm, text: str, target: str | None = None):
    """The Problem `explain` builds for `target` (default: the top-1)."""
    from whyword.engine import targets
    from whyword.engine.predict import predictions
    from whyword.engine.problems import build_problem
    from whyword.tasks.explain import row_for

    enc = encode(lm, text)
    (slot,) = predictions(lm, enc, 1)[:1]
    tgt = targets.resolve(lm, enc, target, slot.candidates[0].token_id)
    row = row_for(lm, enc, tgt.ids, None, 0, slot)
    return build_problem(lm, row.target.ids, [row], ww.ExplainOptions())


def _ig(problem, **options):
    from whyword.attr import IGParams
    from whyword.attr.integrated_gradients import integrated_gradients

    return integrated_gradients(problem, IGParams.from_options(ww.ExplainOptions(**options)))


@pytest.mark.parametrize(
    ("text", "target"),
    [(PROMPT, None), (PROMPT, " Paris is big"), ("The capital of [MASK] is Paris.", " France")],
)
def test_held_first_token_cached_once_gives_the_same_ig(tiny_gpt2, text, target):
    """IG with the first token's keys/values computed once equals IG feeding it every row."""
    from dataclasses import replace

    problem = _problem(tiny_gpt2, text, target)
    assert problem.path_forward is not None
    opts = {"n_steps": 8, "nodes_per_interval": 4, "max_steps": 8}
    cached = _ig(problem, **opts)
    full = _ig(replace(problem, path_forward=None), **opts)
    assert cached.scores[0, 0] == 0.0
    assert full.scores[0, 0] == 0.0
    assert_close(cached.scores, full.scores, TINY_FP32)
    assert_close(cached.completeness[0].f_input, full.completeness[0].f_input, LOG_PROB)


@pytest.mark.slow
def test_held_first_token_cache_on_default_model(smol):
    from dataclasses import replace

    problem = _problem(smol, PROMPT)
    assert problem.path_forward is not None
    opts = {"n_steps": 8, "nodes_per_interval": 4, "max_steps": 8}
    cached, full = (_ig(p, **opts) for p in (problem, replace(problem, path_forward=None)))
    scale = float(full.scores.abs().max())
    assert_close(cached.scores / scale, full.scores / scale, SCALED_IG_PREFIX)


def test_no_prefix_shortcut_where_it_cannot_hold(tiny_bert, tiny_gpt2):
    from whyword.attr.objectives import get_objective
    from whyword.engine.forward import Layout, RowSpec, held_prefix_scorer

    assert _problem(tiny_bert, "The capital of [MASK] is Paris.").path_forward is None
    x = prompt_embeds(tiny_gpt2, PROMPT)  # (1, T, H)
    ids = tuple(encode(tiny_gpt2, PROMPT).ids)
    reads_first = Layout(ids, len(ids), (), ((0, 5), (len(ids) - 1, 7)), causal=True)
    row = RowSpec(reads_first, get_objective("log_prob"), (5, 7))
    assert held_prefix_scorer(tiny_gpt2, [row], x) is None


def test_adaptive_ig_recovers_exact_scores_of_a_separable_function():
    """F = Σ_t tanh(8 e_t·u): each token's exact IG score is tanh(8 x_t·u) − tanh(8 x'_t·u),
    steepest near the zero baseline, where the graded intervals put their nodes."""
    from whyword.attr import Problem
    from whyword.attr.problem import fixed_rows

    torch.manual_seed(0)
    x = torch.randn(1, 6, 4)  # (1, T, H)
    u = torch.randn(4)  # (H,)

    def forward(e, mask, rows):
        return torch.tanh(8 * e @ u).sum(dim=-1)  # (B, T, H) -> (B,)

    anchors = torch.zeros(6, dtype=torch.bool)
    anchors[0] = True
    problem = Problem(
        forward,
        x,
        torch.zeros(1, dtype=torch.long),
        torch.ones(1, 6),
        torch.zeros(1, 6, 4),
        anchors,
        fixed_rows(64),
    )
    exact = torch.tanh(8 * x[0] @ u) - torch.tanh(8 * problem.baseline[0] @ u)  # (T,)
    result = _ig(problem, ig_tolerance=1e-4, max_steps=512)
    assert result.completeness[0].relative_error <= 1e-4
    torch.testing.assert_close(result.scores[0], exact, rtol=0, atol=1e-3)
    assert result.scores[0, 0] == 0.0  # held: it never moves
