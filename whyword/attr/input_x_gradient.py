"""Input × gradient: e · ∂F/∂e per token, a first-order estimate of its contribution (signed)."""

from __future__ import annotations

import torch
from captum.attr import InputXGradient

from whyword.attr.problem import Problem
from whyword.attr.registry import MethodOutput


def input_x_gradient(problem: Problem, params: None) -> MethodOutput:
    parts = []
    for _, chunk in problem.chunks():
        attr = InputXGradient(chunk.forward).attribute(
            chunk.inputs, additional_forward_args=chunk.args()
        )  # (r, T, H)
        parts.append(attr.sum(dim=-1).detach())  # (r, T)
    return MethodOutput(torch.cat(parts))  # (R, T)
