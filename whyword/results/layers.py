"""What each layer predicts (the logit lens): frozen, torch-free results that check themselves."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from whyword.results.components import DirectLogits
from whyword.results.display import Displayable
from whyword.results.explanation import Candidate
from whyword.text.tokens import Token


@dataclass(frozen=True)
class LayerRow:
    """One layer's reading of the residual stream at the lens position."""

    layer: int  # 0: the embeddings (the first block's input); n: after block n
    label: str  # "embeddings", "layer 1", ...
    top: tuple[Candidate, ...]  # the top-k tokens, most probable first
    target_probability: float  # of the target's first token
    target_rank: int  # 1 = the top token
    foil_probability: float | None = None
    foil_rank: int | None = None

    def __post_init__(self) -> None:
        assert self.top and all(
            a.probability >= b.probability for a, b in zip(self.top, self.top[1:], strict=False)
        )
        assert 0.0 <= self.target_probability <= 1.0 and self.target_rank >= 1
        assert (self.foil_probability is None) == (self.foil_rank is None)


@dataclass(frozen=True)
class LayerLens(Displayable):
    """Every layer's top-k next tokens at one position, and where the target (and foil) stand.

    The last row reads the stream the model's own head reads: `max_error` is its largest
    |logit| difference from the model's logits (float rounding). In a notebook: one line per
    layer (`show(k=10)`)."""

    display_as: ClassVar[str] = "layers"

    model: str
    kind: str
    text: str
    tokens: tuple[Token, ...]
    position: int  # the token whose stream is read (causal: it predicts the next one)
    target: str
    target_id: int
    foil: str | None
    foil_id: int | None
    rows: tuple[LayerRow, ...]  # embeddings, then one per block
    max_error: float
    notes: tuple[str, ...] = ()
    components: DirectLogits | None = None  # which heads and MLPs wrote it (pre-norm models)

    def __post_init__(self) -> None:
        assert len(self.rows) >= 2, "the embeddings and at least one block"
        assert [r.layer for r in self.rows] == list(range(len(self.rows)))
        assert 0 <= self.position < len(self.tokens)
        assert (self.foil is None) == (self.foil_id is None)
        assert all((r.foil_rank is None) == (self.foil is None) for r in self.rows)

    def first_layer_in_top(self, k: int) -> int | None:
        """The first layer whose lens ranks the target within the top `k` (None: none)."""
        return next((r.layer for r in self.rows if r.target_rank <= k), None)

    def to_dataframe(self):
        """One row per layer: the target's (and foil's) probability and rank, the top-k."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "layer": r.layer,
                    "label": r.label,
                    "target_probability": r.target_probability,
                    "target_rank": r.target_rank,
                    **(
                        {"foil_probability": r.foil_probability, "foil_rank": r.foil_rank}
                        if self.foil is not None
                        else {}
                    ),
                    "top": " · ".join(c.label for c in r.top),
                }
                for r in self.rows
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
