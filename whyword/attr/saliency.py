"""Saliency: ‖∂F/∂e‖₂ per token — how sensitive F is to each token (unsigned)."""

from __future__ import annotations

from whyword.attr.problem import Problem, input_gradients
from whyword.attr.registry import Method, MethodOutput


def saliency(problem: Problem, params: None) -> MethodOutput:
    """The gradient Captum's `Saliency(abs=False)` takes, from `input_gradients`: the same
    forward also gives F(x), so `attribute` needs no separate pass for the rows' values."""
    values, grads = input_gradients(problem)  # (R,), (R, T, H)
    return MethodOutput(grads.norm(dim=-1), values=values)  # (R, T)


SALIENCY = Method(
    "saliency",
    saliency,
    label="Saliency (gradient norm)",
    short_label="Saliency",
    signed=False,
    description="L2 norm of the gradient of F at each token's embedding. Unsigned: it shows how "
    "sensitive the prediction is to a token, not in which direction.",
    one_pass=True,
    reads_gradient=True,
    shares_calls=True,
)
