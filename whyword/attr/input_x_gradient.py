"""Input × gradient: e · ∂F/∂e per token, a first-order estimate of its contribution (signed)."""

from __future__ import annotations

from whyword.attr.problem import Problem, input_gradients
from whyword.attr.registry import Method, MethodOutput


def input_x_gradient(problem: Problem, params: None) -> MethodOutput:
    """Captum's `InputXGradient` from `input_gradients` (its forward also gives F(x))."""
    values, grads = input_gradients(problem)  # (R,), (R, T, H)
    attr = problem.inputs.detach() * grads  # (R, T, H)
    return MethodOutput(attr.sum(dim=-1), values=values)  # (R, T)


INPUT_X_GRADIENT = Method(
    "input_x_gradient",
    input_x_gradient,
    label="Input × gradient",
    description="Embedding · gradient summed over the hidden size: a first-order estimate of "
    "what the token contributes. Red supports the target, blue speaks against it.",
    one_pass=True,
    reads_gradient=True,
    shares_calls=True,
)
