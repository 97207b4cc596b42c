"""IG's stages (`ExplainOptions.on_stage`): its scores after the first pass and each round of
halving, from numbers it computes anyway: no extra model call, and the same final result."""

from __future__ import annotations

import math

import pytest

import whyword as ww
from tests.tiny import count_forwards
from tests.tolerances import SAME_ARITHMETIC, assert_same_predictions
from whyword.engine.cache import RESULTS

TEXT = "The capital of France is"
METHODS = ("saliency", "integrated_gradients")
# A first pass of 2 one-node intervals misses a tolerance of 1e-6 on the tiny model: it refines
REFINES = {"n_steps": 2, "nodes_per_interval": 1, "ig_tolerance": 1e-6, "max_steps": 16}


def _explain(lm, stages=None, options=REFINES):
    RESULTS.clear()  # with the cache on, a cached result would answer and report no stage
    on_stage = None if stages is None else stages.append
    return ww.explain(TEXT, methods=METHODS, model=lm, on_stage=on_stage, **options)


def test_ig_reports_its_first_pass_then_each_round_then_its_final_scores(tiny_gpt2):
    stages: list[ww.Stage] = []
    e = _explain(tiny_gpt2, stages)
    assert len(stages) >= 3 and all(s.method == "integrated_gradients" for s in stages)
    assert [s.final for s in stages] == [False] * (len(stages) - 1) + [True]
    steps = [s.scores.steps for s in stages]
    assert steps[0] == REFINES["n_steps"] and steps == sorted(steps)  # the first pass, then more
    assert steps[-1] <= REFINES["max_steps"]
    assert stages[0].relative_error > REFINES["ig_tolerance"]  # why it went on refining
    ig = e.attribution("integrated_gradients")
    assert stages[-1].scores.scores[0] == ig.scores  # the last stage is the result's IG
    assert stages[-1].relative_error == ig.relative_error and stages[-1].held == e.held == (0,)


def test_each_stage_reports_the_completeness_of_its_own_scores(tiny_gpt2):
    stages: list[ww.Stage] = []
    _explain(tiny_gpt2, stages)
    for stage in stages:
        (c,) = stage.scores.completeness
        total = math.fsum(stage.scores.scores[0])
        gap = c.f_input - c.f_baseline
        assert c.delta == pytest.approx(total - gap, abs=1e-9)
        assert stage.relative_error == pytest.approx(abs(total - gap) / abs(gap), rel=1e-9)
        assert stage.tolerance == REFINES["ig_tolerance"]
        assert c.steps == stage.scores.steps
    # the end points are the same two forwards throughout: only the scores change
    assert (
        len(
            {
                (s.scores.completeness[0].f_input, s.scores.completeness[0].f_baseline)
                for s in stages
            }
        )
        == 1
    )
    assert stages[0].scores.scores != stages[-1].scores.scores


@pytest.mark.parametrize("options", [REFINES, {}])  # refining, and the page's first pass
def test_observing_costs_no_model_call_and_changes_nothing(tiny_gpt2, options):
    plain, n_plain = count_forwards(tiny_gpt2, lambda: _explain(tiny_gpt2, options=options))
    stages: list[ww.Stage] = []
    seen, n_seen = count_forwards(tiny_gpt2, lambda: _explain(tiny_gpt2, stages, options))
    assert stages and n_seen == n_plain
    assert seen.value == plain.value and seen.target_log_prob == plain.target_log_prob
    for a, b in zip(seen.attributions, plain.attributions, strict=True):
        assert a.scores == b.scores and a.relative_error == b.relative_error
        assert a.steps == b.steps and a.error_bound == b.error_bound


def test_the_callback_is_not_part_of_the_request(tiny_gpt2, monkeypatch):
    monkeypatch.setenv("WHYWORD_CACHE_ENTRIES", "128")  # the tests run with the cache off
    stages: list[ww.Stage] = []
    first = _explain(tiny_gpt2, stages)
    again = ww.explain(TEXT, methods=METHODS, model=tiny_gpt2, on_stage=print, **REFINES)
    assert again is first  # the cache answers; nothing runs, so no stage is reported
    assert "on_stage" not in ww.ExplainOptions(on_stage=print).to_dict()
    RESULTS.clear()


@pytest.mark.numerics
def test_with_stage_puts_the_scores_so_far_beside_the_one_pass_ones(tiny_gpt2):
    stages: list[ww.Stage] = []
    whole = _explain(tiny_gpt2, stages)
    RESULTS.clear()
    early = ww.explain(TEXT, methods="saliency", model=tiny_gpt2)
    shown = ww.with_stage(early, stages[0], order=METHODS)
    assert [a.method for a in shown.attributions] == list(METHODS)
    assert shown.attribution("saliency") == early.attribution("saliency")
    assert shown.attribution("integrated_gradients").scores == stages[0].scores.scores[0]
    assert shown.held == (0,)
    # the early request's own predictions pass against the whole request's
    assert_same_predictions(shown.predictions, whole.predictions, SAME_ARITHMETIC)
    later = ww.with_stage(shown, stages[-1], order=METHODS)  # a later stage replaces it
    assert later.attribution("integrated_gradients").scores == stages[-1].scores.scores[0]
    assert len(later.attributions) == 2


def test_a_matrix_reports_every_row_with_nan_out_of_context(tiny_gpt2):
    stages: list[ww.Stage] = []
    ids = tiny_gpt2.tokenizer(TEXT)["input_ids"]
    outputs = [ww.Output(position=2), ww.Output(position=len(ids) - 1)]
    RESULTS.clear()
    options = {**REFINES, "max_steps": 8}
    m = ww.attribute(
        tiny_gpt2, ids, outputs, "integrated_gradients", on_stage=stages.append, **options
    )
    assert stages[-1].final and len(stages[-1].scores.scores) == 2
    assert stages[-1].context == m.context
    assert math.isnan(stages[0].scores.scores[0][-1])  # row 0 reads position 2: later is NaN
    assert stages[-1].scores.scores == m.methods[0].scores


def test_methods_that_do_not_refine_report_nothing(tiny_gpt2):
    stages: list[ww.Stage] = []
    RESULTS.clear()
    ww.explain(TEXT, methods=("saliency", "occlusion"), model=tiny_gpt2, on_stage=stages.append)
    assert stages == []
