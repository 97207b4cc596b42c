"""Inside the model's attention: where one head looked from a position, how much of each token
it moved, and which heads and MLPs AttnLRP finds relevant. Frozen, torch-free results that
check themselves."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from whyword.results.components import Component, DirectLogits
from whyword.results.ranks import spearman
from whyword.text.tokens import Token

SUM_TOLERANCE = 1e-4  # a row of attention weights sums to 1 within float rounding


def _grid(rows: tuple[tuple[float, ...], ...], layers: int, heads: int) -> bool:
    return len(rows) == layers and all(
        len(r) == heads and all(math.isfinite(x) for x in r) for r in rows
    )


@dataclass(frozen=True)
class HeadAttention:
    """Head `head` of block `layer` at `position`: its attention weights to every token, and
    the norm of what it moved from each, α_{p,j} · ‖v_j W_O,h‖ (whyword/models/heads.py);
    beside it every head's total moved norm at that position, Σ_j α_{p,j} · ‖v_j W_O,h‖
    (an upper bound of the norm of what the head wrote there, before the projection's bias)."""

    model: str
    kind: str
    text: str
    tokens: tuple[Token, ...]
    position: int  # the token that attends (default: the lens position)
    layer: int  # the block, 1-based as in the logit lens ("layer 1" is after block 1)
    head: int  # 0-based
    weights: tuple[float, ...]  # (T,) α_{position, j}: ≥ 0, sum to 1, 0 after it if causal
    moved: tuple[float, ...]  # (T,) α_{position, j} · ‖v_j W_O,h‖
    moved_grid: tuple[tuple[float, ...], ...]  # (layers, heads): Σ_j of every head's `moved`
    layers: int
    heads: int
    kv_heads: int  # value heads (grouped-query attention: fewer than heads)

    def __post_init__(self) -> None:
        n = len(self.tokens)
        assert 0 <= self.position < n and len(self.weights) == len(self.moved) == n
        assert 1 <= self.layer <= self.layers and 0 <= self.head < self.heads
        assert all(w >= 0.0 for w in self.weights) and all(m >= 0.0 for m in self.moved)
        assert abs(sum(self.weights) - 1.0) <= SUM_TOLERANCE, "attention weights sum to 1"
        if self.kind == "causal":
            assert not any(self.weights[self.position + 1 :]), "a causal head looks back only"
        assert _grid(self.moved_grid, self.layers, self.heads)
        assert self.heads % self.kv_heads == 0
        total = self.moved_grid[self.layer - 1][self.head]
        assert math.isclose(sum(self.moved), total, rel_tol=1e-4, abs_tol=1e-6)

    def top_heads(self, n: int = 5) -> list[tuple[int, int, float]]:
        """The `n` heads that moved most at the position: (layer, head, Σ moved norm)."""
        cells = [
            (layer + 1, head, value)
            for layer, row in enumerate(self.moved_grid)
            for head, value in enumerate(row)
        ]
        return sorted(cells, key=lambda c: -c[2])[:n]

    def to_dataframe(self):
        """One row per token: its text, the attention weight and the moved norm."""
        import pandas as pd

        return pd.DataFrame(
            {
                "index": range(len(self.tokens)),
                "token": [t.text for t in self.tokens],
                "weight": self.weights,
                "moved": self.moved,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Neuron:
    """One MLP neuron (the down projection's input coordinate) and its relevance."""

    layer: int  # 1-based
    index: int
    relevance: float

    def __post_init__(self) -> None:
        assert self.layer >= 1 and self.index >= 0 and math.isfinite(self.relevance)


@dataclass(frozen=True)
class ComponentRelevance:
    """AttnLRP's latent relevance (LXT's rules) of every head, MLP and the top MLP neurons for
    the target's logit — or the target − foil logit difference — at `position`.

    A head's relevance is gradient × activation under LXT's rules summed over every position
    and the head's coordinates of the attention's output *before* the output projection; an
    MLP's, the same over the MLP's output; a neuron's, over the down projection's input
    (whyword/attr/latent.py). `attention[l]` is the relevance at block l's attention output
    after the projection: the heads add up to it up to the projection's bias. LRP conserves
    the logit only in part (the attention softmax does not): compare components with each
    other, not with `value`."""

    model: str
    text: str
    tokens: tuple[Token, ...]
    position: int
    target: str
    target_id: int
    foil: str | None
    foil_id: int | None
    objective: str  # "logit" or "logit difference"
    value: float  # the explained logit (or difference) at `position`
    heads: tuple[tuple[float, ...], ...]  # (layers, heads)
    attention: tuple[float, ...]  # (layers,): after the output projection
    mlps: tuple[float, ...]  # (layers,)
    neurons: tuple[Neuron, ...]  # the top neurons by |relevance|, largest first
    token_relevance: tuple[float, ...]  # (T,): at the input embeddings
    layers: int
    n_heads: int
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        assert 0 <= self.position < len(self.tokens) == len(self.token_relevance)
        assert (self.foil is None) == (self.foil_id is None)
        assert self.objective == ("logit" if self.foil is None else "logit difference")
        assert _grid(self.heads, self.layers, self.n_heads)
        assert len(self.attention) == len(self.mlps) == self.layers
        assert all(math.isfinite(x) for x in (*self.attention, *self.mlps, self.value))
        sizes = [abs(n.relevance) for n in self.neurons]
        assert sizes == sorted(sizes, reverse=True), "neurons largest |relevance| first"
        assert all(n.layer <= self.layers for n in self.neurons)

    def top(self, n: int = 10) -> list[tuple[str, float]]:
        """The `n` heads and MLPs of largest |relevance|: ("L3.H2" or "MLP 3", relevance)."""
        cells = [
            (f"L{layer + 1}.H{head}", value)
            for layer, row in enumerate(self.heads)
            for head, value in enumerate(row)
        ] + [(f"MLP {layer + 1}", value) for layer, value in enumerate(self.mlps)]
        return sorted(cells, key=lambda c: -abs(c[1]))[:n]

    def of(self, component: Component) -> float:
        """The relevance of a head or an MLP (as `DirectLogits` names them)."""
        if component.kind == "head":
            return self.heads[component.layer - 1][component.head]
        assert component.kind == "mlp", "relevance is kept for heads and MLPs"
        return self.mlps[component.layer - 1]

    def agreement(self, direct: DirectLogits) -> RelevanceAgreement:
        """How AttnLRP's ranking of the heads and MLPs agrees with direct logit attribution's
        (over all of them) and with the ablation check's real effects (over those checked)."""
        if (direct.layers, direct.heads, direct.objective) != (
            self.layers,
            self.n_heads,
            self.objective,
        ):
            raise ValueError("relevance and DLA of different models or objectives")
        inside = [c for c in direct.components if c.kind in ("head", "mlp")]
        foil = self.foil is not None
        checked = direct.ablations
        mine = [self.of(a.component) for a in checked]
        return RelevanceAgreement(
            dla=spearman([self.of(c) for c in inside], [c.dla for c in inside]),
            zero_ablation=spearman(mine, [a.effect("zero", foil) for a in checked])
            if len(checked) >= 2
            else None,
            mean_ablation=spearman(mine, [a.effect("mean", foil) for a in checked])
            if len(checked) >= 2
            else None,
            components=len(inside),
            checked=len(checked),
        )

    def to_dataframe(self):
        """One row per head and per MLP: kind, layer, head, relevance."""
        import pandas as pd

        rows = [
            {"kind": "head", "layer": layer + 1, "head": head, "relevance": value}
            for layer, row in enumerate(self.heads)
            for head, value in enumerate(row)
        ] + [
            {"kind": "mlp", "layer": layer + 1, "head": None, "relevance": value}
            for layer, value in enumerate(self.mlps)
        ]
        return pd.DataFrame(rows).astype({"head": "Int64"})  # MLPs: no head (<NA>)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RelevanceAgreement:
    """Spearman's ρ of AttnLRP relevance against DLA (every head and MLP) and against the
    ablation check's effects (the components checked; None if fewer than two)."""

    dla: float
    zero_ablation: float | None
    mean_ablation: float | None
    components: int
    checked: int

    def __post_init__(self) -> None:
        assert self.components >= 2 and 0 <= self.checked <= self.components
        assert (self.zero_ablation is None) == (self.checked < 2)
