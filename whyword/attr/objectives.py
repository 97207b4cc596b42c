"""What a row explains: small registered functions of what the forward read off the model.

In the style of Inseq's step functions: the differentiable forward scores every sequence a row
needs (its target, its foil, an infill candidate pool) and hands the objective a `Scores`
batch; the objective returns the scalar that is attributed, one value per batch example.
`register_objective` adds one; one registered with `needs_distribution=True` also receives the
whole log-distribution at the read position, so an entropy, a margin or a KL divergence is a
few lines (see `entropy`, `margin`). whyword/attr/scoring.py computes the `Scores` from the logits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from whyword.errors import InputError
from whyword.runtime.registry import Registry


@dataclass(frozen=True, eq=False)
class Scores:
    """Per example of a batch: the scored sequences of its row.

    The *read position* is the one whose logits score the target's first piece (the last
    input token for a next-token row, the mask for a masked one)."""

    target_log_prob: torch.Tensor  # (B,) Σ log p(target piece) (teacher-forced / one mask each)
    target_logit: torch.Tensor  # (B,) Σ logit(target piece)
    foil_log_prob: torch.Tensor | None = None  # (B,)
    foil_logit: torch.Tensor | None = None  # (B,)
    pool_log_probs: torch.Tensor | None = None  # (B, 1 + N) joint log p: target, then the pool
    # (B, V) log-softmax over the model's head at the read position; only for an objective
    # registered with needs_distribution=True (None otherwise: it is not computed)
    log_probs: torch.Tensor | None = None
    target_first_id: torch.Tensor | None = None  # (B,) long: the target's first piece
    target_pieces: torch.Tensor | None = None  # (B,) how many pieces the target's sum has
    foil_pieces: torch.Tensor | None = None  # (B,) the same for the foil


ObjectiveFn = Callable[[Scores], torch.Tensor]  # Scores -> (B,)


@dataclass(frozen=True)
class Objective:
    name: str
    formula: str  # how it reads on the page, e.g. "log p(target) − log p(foil)"
    fn: ObjectiveFn
    needs_foil: bool = False
    needs_pool: bool = False  # scores an infill candidate pool (infill_posterior)
    is_log_prob: bool = True  # the value is a log-probability of the target (probability shown)
    needs_distribution: bool = False  # receives `Scores.log_probs` (B, V) at the read position


OBJECTIVES: Registry[Objective] = Registry("objective")


def register_objective(
    name: str,
    fn: ObjectiveFn,
    formula: str,
    *,
    needs_foil: bool = False,
    needs_pool: bool = False,
    is_log_prob: bool = False,
    needs_distribution: bool = False,
    overwrite: bool = False,
) -> Objective:
    """Register `fn(scores) -> (B,)` under `name`; every method can then attribute it.

    `needs_distribution`: `fn` reads `scores.log_probs`, the (B, V) log-softmax at the read
    position (computed only for such objectives). A name in use is refused unless
    `overwrite=True`."""
    if not name or not isinstance(name, str):
        raise InputError("An objective needs a non-empty name.")
    if not callable(fn):
        raise InputError(f"The objective '{name}' must be a function of the scores.")
    objective = Objective(
        name, formula, fn, needs_foil, needs_pool, is_log_prob, needs_distribution
    )
    return OBJECTIVES.add(name, objective, overwrite=overwrite)


def get_objective(name: str) -> Objective:
    return OBJECTIVES.find(name)


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


def mean_log_prob(s: Scores) -> torch.Tensor:
    """Σ log p(target pieces) / their number: the target's log-probability per token, so a
    long span and a short one read on one scale (a span of a reply: `SpanTarget(mean=True)`)."""
    assert s.target_pieces is not None, "mean_log_prob needs the piece counts"
    return s.target_log_prob / s.target_pieces  # (B,)


def mean_contrastive(s: Scores) -> torch.Tensor:
    """mean log p(target pieces) − mean log p(foil pieces): the contrast per token, fair to a
    target and a foil of different lengths."""
    assert s.foil_log_prob is not None and s.foil_pieces is not None, "needs a foil"
    return mean_log_prob(s) - s.foil_log_prob / s.foil_pieces  # (B,)


def infill_posterior(s: Scores) -> torch.Tensor:
    """log p(target | the candidate pool): the joint score of the filled sentence normalised
    over the pool of candidates (the target included) — what the infill bar chart shows."""
    assert s.pool_log_probs is not None, "infill_posterior needs the candidate pool"
    return s.target_log_prob - torch.logsumexp(s.pool_log_probs, dim=-1)  # (B,)


def entropy(s: Scores) -> torch.Tensor:
    """H = −Σ p log p (nats) of the distribution at the read position: how unsure the model
    is there, whatever the target (only its position matters). A token with a positive score
    makes the model less sure. 0 · log 0 counts as 0 (a −inf log-prob is clamped)."""
    assert s.log_probs is not None, "entropy needs the distribution"
    lp = s.log_probs.clamp_min(torch.finfo(s.log_probs.dtype).min)  # (B, V) finite
    return -(lp.exp() * lp).sum(-1)  # (B,)


def margin(s: Scores) -> torch.Tensor:
    """log p(target) − max over the other tokens of log p, both at the read position: the
    lead of the target over its strongest rival (= the logit difference). For a target of
    several tokens this is its *first piece's* margin — the choice made at the read position
    (the later pieces are scored under teacher forcing, each with rivals of its own).
    Positive exactly when the first piece is the model's top-1 there."""
    assert s.log_probs is not None and s.target_first_id is not None, "margin needs them"
    first = s.target_first_id[:, None]  # (B, 1)
    own = s.log_probs.gather(-1, first).squeeze(-1)  # (B,)
    rivals = s.log_probs.scatter(-1, first, float("-inf"))  # (B, V) the target left out
    return own - rivals.max(dim=-1).values  # (B,)


def default_objective(*, foil: bool = False, infill: bool = False) -> Objective:
    """The objective a row explains when none is named: the contrast with a foil if there is
    one, else the target's probability among the candidates (infill on a causal LM, as the
    bars show), else log p(target)."""
    if foil:
        return OBJECTIVES["contrastive"]
    return OBJECTIVES["infill_posterior" if infill else "log_prob"]


def value_objective(name: str | None = None, *, infill: bool = False) -> Objective:
    """The objective whose value is a row's log p(target), shown as its probability: `name`
    if given, else the default without a foil."""
    return get_objective(name) if name else default_objective(infill=infill)


register_objective("log_prob", log_prob, "log p(target)", is_log_prob=True)
register_objective("probability", probability, "p(target)")
register_objective("logit", logit, "logit(target)")
register_objective("contrastive", contrastive, "log p(target) − log p(foil)", needs_foil=True)
register_objective("mean_log_prob", mean_log_prob, "mean log p(target tokens)")
register_objective(
    "mean_contrastive",
    mean_contrastive,
    "mean log p(target tokens) − mean log p(foil tokens)",
    needs_foil=True,
)
register_objective(
    "infill_posterior",
    infill_posterior,
    "log p(target | candidates)",
    needs_pool=True,
    is_log_prob=True,
)
register_objective("entropy", entropy, "H(p) at the read position (nats)", needs_distribution=True)
register_objective(
    "margin",
    margin,
    "log p(first piece) − max log p(other token)",
    needs_distribution=True,
)
