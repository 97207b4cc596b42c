"""The method and objective registries refuse a name in use unless asked to replace it."""

from __future__ import annotations

import pytest

import whyword as ww
from whyword.attr import METHODS, register_method
from whyword.attr.objectives import OBJECTIVES, register_objective

BUILT_IN_METHODS = (
    "saliency",
    "input_x_gradient",
    "integrated_gradients",
    "smoothgrad",
    "occlusion",
    "attnlrp",
)
BUILT_IN_OBJECTIVES = ("log_prob", "probability", "logit", "contrastive", "infill_posterior")


def _zeros(problem, params):  # a method that is never run here
    raise AssertionError("not run")


def test_a_method_name_in_use_is_refused_and_the_built_in_stays():
    before = dict(METHODS)
    for name in BUILT_IN_METHODS:
        with pytest.raises(ww.InputError, match=f"'{name}' exists: pass overwrite=True"):
            register_method(name, _zeros)
        assert METHODS[name] is before[name]  # untouched
    assert set(BUILT_IN_METHODS) <= set(METHODS)


def test_a_method_is_replaced_with_overwrite():
    try:
        first = register_method("registry_test", _zeros)
        with pytest.raises(ww.InputError, match="overwrite=True"):
            register_method("registry_test", lambda problem, params: None)
        assert METHODS["registry_test"] is first
        second = register_method("registry_test", lambda problem, params: None, overwrite=True)
        assert METHODS["registry_test"] is second and second.run is not first.run
    finally:
        METHODS.pop("registry_test", None)


def test_an_objective_name_in_use_is_refused_and_the_built_in_stays():
    before = dict(OBJECTIVES)
    for name in BUILT_IN_OBJECTIVES:
        with pytest.raises(ww.InputError, match=f"'{name}' exists: pass overwrite=True"):
            ww.register_objective(name, lambda s: s.target_logit, "x")
        assert OBJECTIVES[name] is before[name]
    assert set(BUILT_IN_OBJECTIVES) <= set(OBJECTIVES)


def test_an_objective_is_replaced_with_overwrite():
    try:
        first = register_objective("registry_test", lambda s: s.target_logit, "logit")
        with pytest.raises(ww.InputError, match="overwrite=True"):
            register_objective("registry_test", lambda s: -s.target_logit, "−logit")
        assert OBJECTIVES["registry_test"] is first
        second = register_objective(
            "registry_test", lambda s: -s.target_logit, "−logit", overwrite=True
        )
        assert OBJECTIVES["registry_test"] is second and second.formula == "−logit"
    finally:
        OBJECTIVES.pop("registry_test", None)
