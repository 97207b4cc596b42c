"""Occlusion: F(x) − F(x with token i set to the reference embedding), no gradients."""

from __future__ import annotations

import torch
from captum.attr import FeatureAblation

from whyword.attr.problem import Problem
from whyword.attr.registry import Method, MethodOutput
from whyword.results.params import OcclusionParams


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
    own = problem.attention_mask.sum(-1).tolist()  # (R,): each row's own tokens, not padding
    return MethodOutput(torch.cat(parts), steps=seq, row_steps=tuple(int(n) for n in own))


def _per_token(tokens: int, options) -> int:
    return tokens  # one forward per token (batched)


OCCLUSION = Method(
    "occlusion",
    occlusion,
    label="Occlusion (leave one out)",
    short_label="Occlusion",
    description="Drop in F when one token's embedding is replaced by the baseline embedding; "
    "no gradients, one forward pass per token.",
    shares_calls=True,
    params=OcclusionParams,
    evaluations=_per_token,
)
