"""The method registry: a name -> a function (problem, params) -> MethodOutput, Captum's style.

`register_method` is public: a user-defined method gets the same batching, rows, result
objects and rendering as the built-in ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from whyword.attr.problem import Problem
from whyword.errors import InputError
from whyword.matrix import Completeness
from whyword.method_info import METHOD_INFO, MethodInfo


@dataclass(frozen=True, eq=False)
class MethodOutput:
    """What a method returns: (R, T) scores and, per row, what it knows about their quality."""

    scores: torch.Tensor  # (R, T)
    steps: int | None = None  # gradient evaluations per row (the most any row used)
    completeness: tuple[Completeness, ...] | None = None  # one per row (IG)
    stdev: float | None = None  # SmoothGrad's noise level in embedding units
    values: torch.Tensor | None = None  # (R,) F at the real inputs, when the method ran it

    def __post_init__(self) -> None:
        assert self.scores.dim() == 2, "scores are rows × tokens"
        if self.values is not None:
            assert self.values.shape == self.scores.shape[:1], "one value per row"
        if self.completeness is not None:
            assert len(self.completeness) == self.scores.shape[0]


Runner = Callable[[Problem, Any], MethodOutput]


@dataclass(frozen=True)
class Method:
    info: MethodInfo
    run: Runner
    params: Callable[[Any], Any] = field(default=lambda options: None)  # options -> typed params

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def signed(self) -> bool:
        return self.info.signed

    @property
    def label(self) -> str:
        return self.info.label

    @property
    def description(self) -> str:
        return self.info.description


METHODS: dict[str, Method] = {}


def register_method(
    name: str,
    run: Runner,
    *,
    label: str | None = None,
    signed: bool = True,
    description: str = "",
    params: Callable[[Any], Any] | None = None,
    completeness: bool = False,
    overwrite: bool = False,
) -> Method:
    """Register `run(problem, params) -> MethodOutput`; `params(options)` builds its typed
    parameters from `ExplainOptions` (default: none). A name in use is refused unless
    `overwrite=True`."""
    if not name or not isinstance(name, str) or not callable(run):
        raise InputError("A method needs a name and a function (problem, params) -> scores.")
    if name in METHODS and not overwrite:
        raise InputError(f"A method named '{name}' exists: pass overwrite=True to replace it.")
    info = METHOD_INFO.get(name) or MethodInfo(
        name, label or name, signed, description, completeness
    )
    METHOD_INFO[name] = info
    method = Method(info, run, params or (lambda options: None))
    METHODS[name] = method
    return method


def get_method(name: str) -> Method:
    try:
        return METHODS[name]
    except KeyError:
        known = ", ".join(METHODS)
        raise InputError(f"Unknown method '{name}'. Choose from: {known}.") from None
