"""Saliency: ‖∂F/∂e‖₂ per token — how sensitive F is to each token (unsigned)."""

from __future__ import annotations

import torch
from captum.attr import Saliency

from whyword.attr.problem import Problem
from whyword.attr.registry import MethodOutput


def saliency(problem: Problem, params: None) -> MethodOutput:
    parts = []
    for _, chunk in problem.chunks():
        grads = Saliency(chunk.forward).attribute(
            chunk.inputs, abs=False, additional_forward_args=chunk.args()
        )  # (r, T, H): each row's own copy gets its own gradient
        parts.append(grads.norm(dim=-1).detach())  # (r, T)
    return MethodOutput(torch.cat(parts))  # (R, T)
