"""Every bad-input case through the library (`whyword.explain`): a clear one-sentence message or
a correct result, and a normal request still works afterwards."""

from __future__ import annotations

import pytest

import whyword as ww
from tests.integration.bad_input.cases import CASES, Case, case_params, run_library
from tests.integration.bad_input.checks import assert_clear, assert_correct, assert_still_serving

pytestmark = pytest.mark.usefixtures("one_torch_thread", "local_mode")


@pytest.mark.parametrize("case", case_params(CASES))
def test_library(case: Case, models) -> None:
    if case.lib is None:
        explanation = run_library(case, models)
        assert_correct(explanation, case)
    else:
        with pytest.raises(ww.WhyWordError) as caught:
            run_library(case, models)
        assert_clear(str(caught.value), case.lib)
    assert_still_serving(models)
