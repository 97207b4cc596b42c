"""The frozen, self-checking result of `explain_with_evidence`, with DataFrame views and JSON."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal

from whyword.evidence.marginal import Surrogate
from whyword.results.display import Displayable
from whyword.results.explanation import Explanation

Path = Literal["reader", "retriever"]
PATH_NOTES = {
    "reader": "reader path: the core's method on the reader's input (passage + query), "
    "attributing log p(y | x, z) of that passage",
    "retriever": "retriever path: input × gradient of log p(y | x) back through p(z | x) into "
    "the encoder's token embeddings (the reader held fixed)",
}


@dataclass(frozen=True)
class Answer:
    """One candidate answer with its probability."""

    token_id: int
    token: str  # readable label (␣Paris)
    text: str  # exact text
    probability: float


@dataclass(frozen=True)
class RetrievedPassage:
    """One retrieved block and what it did to the answer."""

    rank: int  # 1 = most relevant
    index: int  # position in the corpus
    text: str
    relevance: float  # s_z = q(x) · b(z), cosine of the normalised embeddings
    retrieval_probability: float  # p(z | x) = softmax(s / τ) over the top-k
    reader_probability: float  # p(y | x, z)
    share: float  # p(z | x) p(y | x, z) / p(y | x)
    leave_one_out: float  # log p(y | x) − log p(y | x without z)
    relevance_gradient: float  # ∂ log p(y | x) / ∂ s_z
    surrogate_weight: float  # the ContextCite-style linear weight

    def __post_init__(self) -> None:
        for p in (self.retrieval_probability, self.reader_probability, self.share):
            assert -1e-9 <= p <= 1 + 1e-9, "probabilities lie in [0, 1]"


@dataclass(frozen=True)
class TokenAttribution:
    """One heatmap: scores over the tokens of the query or of a passage, through one path."""

    path: Path
    method: str
    passage: int | None  # rank (1-based) of the passage whose input this is; None: query alone
    tokens: tuple[str, ...]  # readable labels
    parts: tuple[str, ...]  # per token: "passage" or "query"
    scores: tuple[float, ...]
    signed: bool

    def __post_init__(self) -> None:
        assert self.path in PATH_NOTES
        assert len(self.tokens) == len(self.parts) == len(self.scores), "tokens and scores align"
        assert all(math.isfinite(s) for s in self.scores)

    @property
    def note(self) -> str:
        return PATH_NOTES[self.path]


@dataclass(frozen=True)
class EvidenceResult(Displayable):
    """REALM's marginal for one query, its passages and their attributions; in a notebook, the
    Evidence view (`show(methods=..., passages=False)`)."""

    display_as: ClassVar[str] = "evidence"

    query: str
    model: str
    retriever: str
    corpus: str  # "typed", a file name, or a shipped corpus name
    corpus_size: int
    mode: str  # reader mode: "next_token" | "masked" | "infill"
    k: int
    temperature: float
    target: Answer  # the explained answer y
    target_probability_no_evidence: float
    marginal_top: tuple[Answer, ...]  # p(y | x), best first
    no_evidence_top: tuple[Answer, ...]  # the reader on the query alone
    retrieved: tuple[RetrievedPassage, ...]
    surrogate: Surrogate
    token_attributions: tuple[TokenAttribution, ...]
    reader: tuple[Explanation, ...] = ()  # the core's explanation per passage, then query alone
    timings: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        assert self.retrieved and len(self.retrieved) == self.k
        assert math.isclose(sum(p.share for p in self.retrieved), 1.0, abs_tol=1e-6)
        assert math.isclose(sum(p.retrieval_probability for p in self.retrieved), 1.0, abs_tol=1e-6)
        assert len(self.surrogate.weights) == self.k
        marginal = sum(p.retrieval_probability * p.reader_probability for p in self.retrieved)
        assert math.isclose(marginal, self.target.probability, rel_tol=1e-4, abs_tol=1e-9)

    @property
    def marginal(self):
        """The REALM marginal p(y | x), top answers: rank, token, token_id, probability."""
        return _frame(self.marginal_top)

    @property
    def no_evidence(self):
        """The reader on the query alone: rank, token, token_id, probability."""
        return _frame(self.no_evidence_top)

    @property
    def passages(self):
        """One row per retrieved passage, most relevant first."""
        import pandas as pd

        return pd.DataFrame([asdict(p) for p in self.retrieved])

    def attributions(self, path: Path | None = None, passage: int | None = -1):
        """Token attributions, filtered by path and passage rank (-1: every passage)."""
        return tuple(
            a
            for a in self.token_attributions
            if (path is None or a.path == path) and (passage == -1 or a.passage == passage)
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reader"] = [e.to_dict() for e in self.reader]
        data["path_notes"] = dict(PATH_NOTES)
        return data

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)


def _frame(answers: tuple[Answer, ...]):
    import pandas as pd

    return pd.DataFrame(
        [
            {"rank": r, "token": a.token, "token_id": a.token_id, "probability": a.probability}
            for r, a in enumerate(answers, start=1)
        ]
    )
