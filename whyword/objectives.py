"""What a row explains: small registered functions of what the forward read off the model.

In the style of Inseq's step functions: the differentiable forward scores every sequence a row
needs (its target, its foil, an infill candidate pool) and hands the objective a `Scores`
batch; the objective returns the scalar that is attributed, one value per batch example.
`register_objective` adds one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from whyword.errors import InputError


@dataclass(frozen=True, eq=False)
class Scores:
    """Per example of a batch: the scored sequences of its row."""

    target_log_prob: torch.Tensor  # (B,) Σ log p(target piece) (teacher-forced / one mask each)
    target_logit: torch.Tensor  # (B,) Σ logit(target piece)
    foil_log_prob: torch.Tensor | None = None  # (B,)
    foil_logit: torch.Tensor | None = None  # (B,)
    pool_log_probs: torch.Tensor | None = None  # (B, N) joint log p of each pool candidate


ObjectiveFn = Callable[[Scores], torch.Tensor]  # Scores -> (B,)


@dataclass(frozen=True)
class Objective:
    name: str
    formula: str  # how it reads on the page, e.g. "log p(target) − log p(foil)"
    fn: ObjectiveFn
    needs_foil: bool = False
    needs_pool: bool = False  # scores an infill candidate pool (infill_posterior)
    is_log_prob: bool = True  # the value is a log-probability of the target (probability shown)


OBJECTIVES: dict[str, Objective] = {}


def register_objective(
    name: str,
    fn: ObjectiveFn,
    formula: str,
    *,
    needs_foil: bool = False,
    needs_pool: bool = False,
    is_log_prob: bool = False,
    overwrite: bool = False,
) -> Objective:
    """Register `fn(scores) -> (B,)` under `name`; every method can then attribute it. A name
    in use is refused unless `overwrite=True`."""
    if not name or not isinstance(name, str):
        raise InputError("An objective needs a non-empty name.")
    if name in OBJECTIVES and not overwrite:
        raise InputError(f"An objective named '{name}' exists: pass overwrite=True to replace it.")
    if not callable(fn):
        raise InputError(f"The objective '{name}' must be a function of the scores.")
    objective = Objective(name, formula, fn, needs_foil, needs_pool, is_log_prob)
    OBJECTIVES[name] = objective
    return objective


def get_objective(name: str) -> Objective:
    try:
        return OBJECTIVES[name]
    except KeyError:
        known = ", ".join(OBJECTIVES)
        raise InputError(f"Unknown objective '{name}'. Choose from: {known}.") from None


def log_prob(s: Scores) -> torch.Tensor:
    """log p(target): for a word of several tokens, the sum over its tokens (teacher-forced
    for causal LMs, one mask per token for masked LMs, the whole filled sentence for infill)."""
    return s.target_log_prob  # (B,)


def probability(s: Scores) -> torch.Tensor:
    """p(target): the same ranking as log p, but saturating (a sure target has no gradient)."""
    return s.target_log_prob.exp()  # (B,)


def logit(s: Scores) -> torch.Tensor:
    """The target's logit (summed over its tokens): no competition with the other words."""
    return s.target_logit  # (B,)


def contrastive(s: Scores) -> torch.Tensor:
    """log p(target) − log p(foil): why the target *rather than* the foil (Yin & Neubig 2022).
    Target and foil may have different lengths on causal models (each is teacher-forced)."""
    assert s.foil_log_prob is not None, "contrastive needs a foil"
    return s.target_log_prob - s.foil_log_prob  # (B,)


def infill_posterior(s: Scores) -> torch.Tensor:
    """log p(target | the candidate pool): the joint score of the filled sentence normalised
    over the pool of candidates (the target included) — what the infill bar chart shows."""
    assert s.pool_log_probs is not None, "infill_posterior needs the candidate pool"
    return s.target_log_prob - torch.logsumexp(s.pool_log_probs, dim=-1)  # (B,)


register_objective("log_prob", log_prob, "log p(target)", is_log_prob=True)
register_objective("probability", probability, "p(target)")
register_objective("logit", logit, "logit(target)")
register_objective("contrastive", contrastive, "log p(target) − log p(foil)", needs_foil=True)
register_objective(
    "infill_posterior",
    infill_posterior,
    "log p(target | candidates)",
    needs_pool=True,
    is_log_prob=True,
)
