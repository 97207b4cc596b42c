"""REALM's marginal and the passage attributions that follow from it, in closed form.

p(z | x) = softmax(s / τ) over the top-k relevance scores s; p(y | x) = Σ_z p(y | x, z) p(z | x).
The reader reads each passage on its own, so removing a passage only renormalises p(z | x) over
the others: leave-one-out and every ablation of the surrogate cost no extra forward pass.
Removing every passage gives the reader's no-evidence p(y | x).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from whyword.results import ranks


def retrieval_log_probs(relevance: torch.Tensor, temperature: float) -> torch.Tensor:
    """log p(z | x) over the retrieved blocks: (K,) -> (K,)."""
    return torch.log_softmax(relevance / temperature, dim=-1)  # (K,)


def log_marginal(log_pz: torch.Tensor, log_py_z: torch.Tensor) -> torch.Tensor:
    """log Σ_z p(z | x) p(y | x, z): (K,), (K, ...) -> (...)."""
    shape = (-1,) + (1,) * (log_py_z.dim() - 1)
    return torch.logsumexp(log_pz.view(shape) + log_py_z, dim=0)  # (...)


def shares(log_pz: torch.Tensor, log_py_z: torch.Tensor) -> torch.Tensor:
    """Each block's share of the answer, p(z | x) p(y | x, z) / p(y | x): (K,), sums to 1."""
    return torch.softmax(log_pz + log_py_z, dim=0)  # (K,)


def subset_log_marginals(
    relevance: torch.Tensor,
    log_py_z: torch.Tensor,
    temperature: float,
    keep: torch.Tensor,
    log_py_none: float,
) -> torch.Tensor:
    """log p(y | x) with only the kept blocks retrieved (p(z | x) renormalised over them);
    no block kept: the no-evidence value. keep: (M, K) bool -> (M,)."""
    scores = (relevance / temperature).expand_as(keep)  # (M, K)
    masked = torch.where(keep, scores, torch.full_like(scores, -torch.inf))  # (M, K)
    log_pz = masked - torch.logsumexp(masked, dim=-1, keepdim=True)  # (M, K) NaN where none
    joint = torch.logsumexp(log_pz + log_py_z, dim=-1)  # (M,)
    none = torch.full_like(joint, float(log_py_none))  # (M,)
    return torch.where(keep.any(-1), joint, none)  # (M,)


def leave_one_out(
    relevance: torch.Tensor, log_py_z: torch.Tensor, temperature: float, log_py_none: float
) -> torch.Tensor:
    """Δ log p(y | x) = log p(y | x) − log p(y | x without block z), per block: (K,)."""
    k = relevance.shape[0]
    full = subset_log_marginals(
        relevance, log_py_z, temperature, torch.ones(1, k, dtype=torch.bool), log_py_none
    )
    keep = ~torch.eye(k, dtype=torch.bool)  # (K, K): row z drops block z
    return full - subset_log_marginals(relevance, log_py_z, temperature, keep, log_py_none)  # (K,)


def relevance_gradient(
    relevance: torch.Tensor, log_py_z: torch.Tensor, temperature: float
) -> torch.Tensor:
    """∂ log p(y | x) / ∂ s_z = (share_z − p(z | x)) / τ: a block gains relevance to the answer
    exactly when its reader explains y better than the retrieval-weighted average (K,)."""
    log_pz = retrieval_log_probs(relevance, temperature)  # (K,)
    return (shares(log_pz, log_py_z) - log_pz.exp()) / temperature  # (K,)


@dataclass(frozen=True)
class Surrogate:
    """A ContextCite-style linear surrogate of log p(y | x, S) over random block subsets S."""

    weights: tuple[float, ...]  # per block: its coefficient (Δ log p when the block is kept)
    intercept: float  # the fit's log p(y | x) with no block
    ablations: int  # random subsets fitted (each block kept with probability 1/2)
    seed: int
    r2: float  # fit quality on the ablations
    rank_agreement: float | None  # Spearman correlation of the weights with leave-one-out
    seconds: float  # the whole fit; the ablations need no forward pass (see module docstring)
    forward_passes: int = 0

    def __post_init__(self) -> None:
        assert self.ablations > 0 and self.weights


def fit_surrogate(
    relevance: torch.Tensor,
    log_py_z: torch.Tensor,
    temperature: float,
    log_py_none: float,
    loo: torch.Tensor,
    ablations: int = 64,
    seed: int = 0,
) -> Surrogate:
    """Least squares of log p(y | x, S) on the keep-mask of S (float64; a tiny ridge keeps
    it defined when k > ablations)."""
    clock = time.perf_counter()
    k = relevance.shape[0]
    gen = torch.Generator().manual_seed(seed)
    keep = torch.rand(ablations, k, generator=gen) < 0.5  # (M, K)
    y = subset_log_marginals(
        relevance.double(), log_py_z.double(), temperature, keep, log_py_none
    )  # (M,)
    x = torch.cat([keep.double(), torch.ones(ablations, 1, dtype=torch.double)], dim=1)  # (M, K+1)
    ridge = 1e-6 * torch.eye(k + 1, dtype=torch.double)  # (K+1, K+1)
    coef = torch.linalg.solve(x.T @ x + ridge, x.T @ y)  # (K+1,)
    residual = y - x @ coef  # (M,)
    total = ((y - y.mean()) ** 2).sum()
    r2 = 1.0 - float((residual**2).sum() / total) if float(total) > 0 else 1.0
    weights = coef[:k]  # (K,)
    return Surrogate(
        weights=tuple(float(w) for w in weights),
        intercept=float(coef[k]),
        ablations=ablations,
        seed=seed,
        r2=r2,
        rank_agreement=spearman(weights, loo),
        seconds=time.perf_counter() - clock,
    )


def spearman(a: torch.Tensor, b: torch.Tensor) -> float | None:
    """Rank correlation (average ranks for ties); None for fewer than 2 blocks or a constant."""
    rho = ranks.spearman(a.double().tolist(), b.double().tolist())
    return None if math.isnan(rho) else rho
