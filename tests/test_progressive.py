"""Progressive results: the page shows the one-pass heatmap first, then the slower methods."""

from __future__ import annotations

import pytest

pytest.importorskip("gradio")

from whyword.ui import display  # noqa: E402
from whyword.ui.events import early_methods, progressive  # noqa: E402
from whyword.ui.outcome import Outcome  # noqa: E402
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
