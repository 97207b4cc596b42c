"""Attribution methods on the input embeddings, one registry entry each, all built on Captum.

Every method maps an `AttributionProblem` (a differentiable F(embeds) -> (B,) and the real
embeddings) to one score per input token. Positive = supports the target (signed methods).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from captum.attr import FeatureAblation, InputXGradient, NoiseTunnel, Saliency

from whyword.errors import InputError
from whyword.method_info import METHOD_INFO

ScoreFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (B,T,H), (B,T) -> (B,)


@dataclass(frozen=True, eq=False)
class AttributionProblem:
    """What every method needs: F, the input embeddings and the baseline embeddings."""

    forward: ScoreFn
    inputs: torch.Tensor  # (1, T, H) real input embeddings
    attention_mask: torch.Tensor  # (1, T)
    reference: torch.Tensor  # (1, T, H) the reference embedding (zero / pad / mask) per token
    anchors: torch.Tensor  # (T,) bool: held at their real embedding in the IG baseline
    baseline_name: str = "zero"
    path_forward: ScoreFn | None = None  # F of the tokens after a held first one (IG only)

    @property
    def baseline(self) -> torch.Tensor:
        """IG's start point: the reference, except anchors keep their real embedding."""
        return torch.where(self.anchors.view(1, -1, 1), self.inputs, self.reference)  # (1, T, H)

    def path_problem(self) -> tuple[AttributionProblem, int]:
        """What IG integrates, and how many leading tokens it leaves out: with `path_forward`,
        the held first token is not fed again at every point of the path (its IG score is 0:
        it does not move)."""
        if self.path_forward is None:
            return self, 0
        assert bool(self.anchors[0]), "path_forward skips the first token: it must be held"
        problem = AttributionProblem(
            forward=self.path_forward,
            inputs=self.inputs[:, 1:].detach(),  # (1, T−1, H)
            attention_mask=self.attention_mask[:, 1:],  # (1, T−1)
            reference=self.reference[:, 1:],  # (1, T−1, H)
            anchors=self.anchors[1:],  # (T−1,)
            baseline_name=self.baseline_name,
        )
        return problem, 1

    def mask_rows(self, rows: int) -> torch.Tensor:
        return self.attention_mask.expand(rows, -1)  # (rows, T)


@dataclass(frozen=True)
class MethodResult:
    scores: torch.Tensor  # (T,)
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Method:
    name: str
    label: str
    signed: bool
    description: str
    run: Callable[[AttributionProblem, Any], MethodResult]


def saliency(problem: AttributionProblem, options) -> MethodResult:
    """|dF/d embedding|_2 per token: how sensitive F is to each token (unsigned)."""
    grads = Saliency(problem.forward).attribute(
        problem.inputs, abs=False, additional_forward_args=(problem.attention_mask,)
    )  # (1, T, H)
    return MethodResult(grads[0].norm(dim=-1))  # (T,)


def input_x_gradient(problem: AttributionProblem, options) -> MethodResult:
    """embedding · dF/d embedding per token: first-order effect of removing the token (signed)."""
    attr = InputXGradient(problem.forward).attribute(
        problem.inputs, additional_forward_args=(problem.attention_mask,)
    )  # (1, T, H)
    return MethodResult(attr[0].sum(dim=-1))  # (T,)


def smoothgrad(problem: AttributionProblem, options) -> MethodResult:
    """Input×gradient averaged over Gaussian noise on the embeddings (seeded, signed)."""
    stdev = float(options.noise) * float(problem.inputs.detach().std())
    samples = int(options.nt_samples)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(options.seed))
        attr = NoiseTunnel(InputXGradient(problem.forward)).attribute(
            problem.inputs,
            nt_type="smoothgrad",
            nt_samples=samples,
            nt_samples_batch_size=min(samples, options.batch_rows(problem.inputs.shape[1])),
            stdevs=stdev,
            additional_forward_args=(problem.attention_mask,),
        )  # (1, T, H)
    return MethodResult(attr[0].sum(dim=-1), {"steps": samples, "stdev": stdev})


def occlusion(problem: AttributionProblem, options) -> MethodResult:
    """F(x) - F(x with token i replaced by the reference embedding): a non-gradient reference."""
    seq = problem.inputs.shape[1]
    feature_mask = torch.arange(seq).view(1, seq, 1).expand_as(problem.inputs)  # (1, T, H)
    attr = FeatureAblation(problem.forward).attribute(
        problem.inputs,
        baselines=problem.reference,
        additional_forward_args=(problem.attention_mask,),
        feature_mask=feature_mask,
        perturbations_per_eval=min(seq, options.batch_rows(seq)),
    )  # (1, T, H): each token's whole change, repeated over H
    return MethodResult(attr[0, :, 0], {"steps": seq})


def integrated_gradients(problem: AttributionProblem, options) -> MethodResult:
    from whyword.integrated import integrate

    return integrate(problem, options)


RUNNERS: dict[str, Callable[[AttributionProblem, Any], MethodResult]] = {
    "saliency": saliency,
    "input_x_gradient": input_x_gradient,
    "integrated_gradients": integrated_gradients,
    "smoothgrad": smoothgrad,
    "occlusion": occlusion,
}
METHODS: dict[str, Method] = {
    name: Method(info.name, info.label, info.signed, info.description, RUNNERS[name])
    for name, info in METHOD_INFO.items()
}


def get_method(name: str) -> Method:
    try:
        return METHODS[name]
    except KeyError:
        known = ", ".join(METHODS)
        raise InputError(f"Unknown method '{name}'. Choose from: {known}.") from None
