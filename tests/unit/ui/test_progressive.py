"""Progressive results: the page shows the one-pass heatmap first, IG's refinement as it goes,
then the slower methods."""

from __future__ import annotations

import pytest

pytest.importorskip("gradio")

from whyword.ui import display  # noqa: E402
from whyword.ui.events import early_methods, progressive  # noqa: E402
from whyword.ui.outcome import Outcome, Tracker  # noqa: E402
from whyword.ui.share import Query  # noqa: E402


@pytest.mark.parametrize(
    ("methods", "early"),
    [
        (("saliency", "integrated_gradients"), ("saliency",)),
        (("integrated_gradients", "attnlrp", "occlusion"), ("attnlrp",)),
        (("saliency", "input_x_gradient", "smoothgrad"), ("saliency", "input_x_gradient")),
        (("saliency",), ()),  # one method: nothing to show early
        (("saliency", "input_x_gradient"), ()),  # all one-pass: one step is as fast
        (("integrated_gradients", "occlusion"), ()),  # no one-pass method to show first
    ],
)
def test_the_early_methods_are_the_one_pass_ones_of_a_mixed_request(methods, early):
    assert early_methods(methods) == early


def fake_handler(calls: list, fail: bool = False):
    def handler(data, query, state, progress):
        calls.append(query.methods)
        if fail:
            return Outcome(query, error="The text is empty.")
        return Outcome(query, explanation=object())  # any non-None explanation: a success

    return handler


def test_a_mixed_request_yields_the_fast_result_then_the_whole_one():
    calls: list = []
    query = Query(text="The capital of France is", methods=("saliency", "integrated_gradients"))
    outcomes = list(progressive(fake_handler(calls), {}, query, None, None))
    assert calls == [("saliency",), ("saliency", "integrated_gradients")]
    assert [o.pending for o in outcomes] == [("integrated_gradients",), ()]
    assert outcomes[-1].query == query  # the last result is the request as asked


def test_a_single_method_runs_once_and_a_failure_is_said_once():
    calls: list = []
    one = Query(text="x", methods=("integrated_gradients",))
    assert len(list(progressive(fake_handler(calls), {}, one, None, None))) == 1
    calls.clear()
    mixed = Query(text="x", methods=("saliency", "occlusion"))
    outcomes = list(progressive(fake_handler(calls, fail=True), {}, mixed, None, None))
    assert calls == [("saliency",)] and len(outcomes) == 1


def test_an_early_status_says_what_is_still_running_and_has_no_time_yet(tiny_gpt2):
    import whyword

    e = whyword.explain("The capital of France is", methods=("saliency",), model=tiny_gpt2)
    query = Query(text="The capital of France is", methods=("saliency", "integrated_gradients"))
    early = display.status_markdown(Outcome(query, e, pending=("integrated_gradients",)))
    assert "Still running: integrated gradients" in early
    assert "Time:" not in early  # the browser tests wait for "Time" as the finished result
    assert "Time:" in display.status_markdown(Outcome(query, e))


# --- IG shows its refinement: its stages between the one-pass heatmap and the whole result ---

IG_QUERY = Query(text="The capital of France is", methods=("saliency", "integrated_gradients"))
REFINES = {"n_steps": 2, "nodes_per_interval": 1, "ig_tolerance": 1e-6, "max_steps": 16}


def explaining_handler(lm, calls: list):
    """A handler on the tiny model that reports IG's stages as the page's handlers do."""
    import whyword

    def handler(data, query, state, progress):
        calls.append(query.methods)
        on_stage = progress.stage if isinstance(progress, Tracker) else None
        e = whyword.explain(
            query.text, methods=query.methods, model=lm, on_stage=on_stage, **REFINES
        )
        return Outcome(query, explanation=e)

    return handler


def test_ig_shows_its_first_pass_and_each_round_before_the_whole_result(tiny_gpt2):
    calls: list = []
    outcomes = list(progressive(explaining_handler(tiny_gpt2, calls), {}, IG_QUERY, None, None))
    assert calls == [("saliency",), ("saliency", "integrated_gradients")]  # no extra request
    early, *stages, whole = outcomes
    assert early.stage is None and early.pending == ("integrated_gradients",)
    assert len(stages) >= 2 and all(not o.stage.final for o in stages)
    assert all(o.pending == ("integrated_gradients",) for o in stages)
    assert stages[0].stage.scores.steps == REFINES["n_steps"]  # the first pass comes first
    for o in stages:  # the one-pass heatmap stays; IG's scores so far are beside it
        assert [a.method for a in o.explanation.attributions] == list(IG_QUERY.methods)
        assert o.explanation.attribution("saliency") == early.explanation.attribution("saliency")
        ig = o.explanation.attribution("integrated_gradients")
        assert ig.scores == o.stage.scores.scores[0] and ig.relative_error > 1e-6
    assert whole.pending == () and whole.stage is None and whole.query == IG_QUERY
    # the stages are IG's own numbers: the last one shown is refined further in the result
    final_ig = whole.explanation.attribution("integrated_gradients")
    assert final_ig.steps > stages[-1].stage.scores.steps
    assert final_ig.relative_error < stages[0].stage.relative_error


def test_a_refining_status_says_the_error_and_the_target_and_is_not_finished(tiny_gpt2):
    outcomes = list(progressive(explaining_handler(tiny_gpt2, []), {}, IG_QUERY, None, None))
    staged = outcomes[1]
    status = display.status_markdown(staged)
    error = display.percent(staged.stage.relative_error)
    assert f"Integrated gradients: refining (error {error} → target ≤ 0.0001 %)…" in status
    assert "Time:" not in status and "Still running: integrated gradients" in status
    assert "refining" not in display.status_markdown(outcomes[-1])


@pytest.mark.parametrize(("fraction", "text"), [(0.07, "7 %"), (0.05, "5 %"), (0.0035, "0.35 %")])
def test_percentages_are_plain(fraction, text):
    assert display.percent(fraction) == text


def test_a_failing_refining_request_ends_with_its_message():
    calls: list = []

    def handler(data, query, state, progress):
        calls.append(query.methods)
        if len(calls) == 1:
            return Outcome(query, explanation=object())
        return Outcome(query, error="Something went wrong.")

    outcomes = list(progressive(handler, {}, IG_QUERY, None, None))
    assert [o.error for o in outcomes] == [None, "Something went wrong."]


def test_an_exception_in_the_refining_request_reaches_the_event():
    def handler(data, query, state, progress):
        if query.methods == ("saliency",):
            return Outcome(query, explanation=object())
        raise RuntimeError("boom")

    events = progressive(handler, {}, IG_QUERY, None, None)
    next(events)
    with pytest.raises(RuntimeError, match="boom"):
        next(events)


@pytest.mark.parametrize("methods", [("saliency", "occlusion"), IG_QUERY.methods])
def test_the_early_result_leaves_the_faithfulness_curves_to_the_whole_one(methods):
    from whyword.ui import session

    faithfulness: list[bool] = []

    def handler(data, query, state, progress):
        faithfulness.append(session.options_for(query, 64, progress).faithfulness)
        return Outcome(query, explanation=object())

    list(progressive(handler, {}, Query(text="x", methods=methods), None, None))
    assert faithfulness == [False, True]
    faithfulness.clear()
    list(progressive(handler, {}, Query(text="x", methods=("occlusion",)), None, None))
    assert faithfulness == [True]  # a request shown once computes them
