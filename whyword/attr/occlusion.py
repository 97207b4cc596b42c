"""Occlusion: F(x) − F(x with token i set to the reference embedding), no gradients."""

from __future__ import annotations

import torch
from captum.attr import FeatureAblation

from whyword.attr.problem import Problem
from whyword.attr.registry import MethodOutput
from whyword.params import OcclusionParams


def occlusion(problem: Problem, params: OcclusionParams) -> MethodOutput:
    seq = problem.n_tokens
    budget = problem.call_rows(grad=False)
    parts = []
    for _, chunk in problem.chunks(grad=False):
        feature_mask = torch.arange(seq, device=chunk.inputs.device).view(1, seq, 1)  # (1, T, 1)
        with torch.no_grad():
            attr = FeatureAblation(chunk.forward).attribute(
                chunk.inputs.detach(),
                baselines=chunk.reference,
                additional_forward_args=chunk.args(),
                feature_mask=feature_mask.expand_as(chunk.inputs[:1]),  # (1, T, H)
                perturbations_per_eval=max(1, min(seq, budget // chunk.n_rows)),
            )  # (r, T, H): each token's whole change, repeated over H
        parts.append(attr[:, :, 0])  # (r, T)
    return MethodOutput(torch.cat(parts), steps=seq)  # (R, T)
