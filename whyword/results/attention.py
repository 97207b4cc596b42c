"""Inside the model's attention: where one head looked from a position, how much of each token
it moved, and which heads and MLPs AttnLRP finds relevant. Frozen, torch-free results that
check themselves."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

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
