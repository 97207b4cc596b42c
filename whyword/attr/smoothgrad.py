"""SmoothGrad: input × gradient averaged over seeded Gaussian noise on the embeddings."""

from __future__ import annotations

import torch
from captum.attr import InputXGradient, NoiseTunnel

from whyword.attr.problem import Problem
from whyword.attr.registry import Method, MethodOutput
from whyword.results.params import SmoothGradParams


def smoothgrad(problem: Problem, params: SmoothGradParams) -> MethodOutput:
    """Each row gets the same noise draws (seeded per row), so a row's scores do not depend
    on which other rows share its batch."""
    stdev = float(params.noise) * float(problem.inputs[:1].detach().std())
    samples = int(params.nt_samples)
    per_call = max(1, problem.call_rows())
    parts = []
    for r in range(problem.n_rows):  # one row at a time: its samples fill the batch
        chunk = problem.select(slice(r, r + 1))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(params.seed))
            attr = NoiseTunnel(InputXGradient(chunk.forward)).attribute(
                chunk.inputs,
                nt_type="smoothgrad",
                nt_samples=samples,
                nt_samples_batch_size=min(samples, per_call),
                stdevs=stdev,
                additional_forward_args=chunk.args(),
            )  # (1, T, H)
        parts.append(attr.sum(dim=-1).detach())  # (1, T)
    return MethodOutput(torch.cat(parts), steps=samples, stdev=stdev)  # (R, T)


SMOOTHGRAD = Method(
    "smoothgrad",
    smoothgrad,
    label="SmoothGrad (input × gradient)",
    short_label="SmoothGrad",
    description="Input × gradient averaged over noisy copies of the embeddings: less jagged.",
    params=SmoothGradParams,
    evaluations=lambda tokens, options: options.nt_samples,  # one per noisy sample
)
