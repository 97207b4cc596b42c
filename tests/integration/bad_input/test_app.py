"""Every bad-input case through the app's handlers, and those the API endpoint can express through
the endpoint: the library's answer (or the app's own), shown as text."""

from __future__ import annotations

import pytest

import whyword as ww
from tests.integration.bad_input.cases import CASES, Case, app_expected, app_params, query_for
from tests.integration.bad_input.checks import assert_clear, assert_correct

pytestmark = pytest.mark.usefixtures("one_torch_thread", "local_mode")


@pytest.mark.parametrize("case", app_params(CASES))
def test_app_handlers(case: Case, models) -> None:
    from whyword.ui import handlers

    query = query_for(case, models)
    outcome = handlers.run(query)
    expected = app_expected(case)
    if expected is None:
        assert outcome.ok, outcome.error
        assert_correct(outcome.explanation, case)
        assert_status_is_text(handlers, outcome)
    else:
        assert not outcome.ok
        assert_clear(outcome.error, expected)
    assert handlers.run(query_for(Case("normal", "The capital of"), models)).ok


def assert_status_is_text(handlers, outcome) -> None:
    status = handlers.status_markdown(outcome)
    assert "<script" not in status and "<img" not in status


# The endpoint wraps `handlers.run`: the cases it can express, on the tiny models (fast).
API_CASES = [
    c for c in CASES if not {"noise", "nt_samples"} & set(c.options) and c.model != "default"
]


@pytest.mark.parametrize("case", app_params(API_CASES))
def test_api_endpoint(case: Case, models) -> None:
    """The gradio_client endpoint: a result, or a WhyWordError carrying the message."""
    from whyword.ui import handlers

    q = query_for(case, models)
    call = dict(
        text=q.text,
        model=q.model,
        target=q.target,
        foil=q.foil,
        methods=",".join(q.methods),
        steps=q.steps,
        baseline=q.baseline,
        k=q.k,
        mask=q.mask,
    )
    expected = app_expected(case)
    if expected is None:
        data, page = handlers.api_explain(**call)
        assert data["attributions"] is not None and "<script" not in page
    else:
        with pytest.raises(ww.WhyWordError) as caught:
            handlers.api_explain(**call)
        assert_clear(str(caught.value), expected)
