"""Input × gradient: e · ∂F/∂e per token, a first-order estimate of its contribution (signed)."""

from __future__ import annotations

from whyword.attr.problem import Problem, input_gradients
from whyword.attr.registry import MethodOutput


def input_x_gradient(problem: Problem, params: None) -> MethodOutput:
    """Captum's `InputXGradient` from `input_gradients` (its forward also gives F(x))."""
    values, grads = input_gradients(problem)  # (R,), (R, T, H)
    attr = problem.inputs.detach() * grads  # (R, T, H)
    return MethodOutput(attr.sum(dim=-1), values=values)  # (R, T)
