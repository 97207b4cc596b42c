"""Evidence: retrieval-augmented fill-mask in the way of REALM, with attribution to the
retrieved passages and to the tokens inside them (through the reader and the retriever)."""

from whyword.evidence.corpus import CORPORA, Corpus
from whyword.evidence.marginal import Surrogate
from whyword.evidence.pipeline import DEFAULT_K, DEFAULT_TEMPERATURE, explain_with_evidence
from whyword.evidence.result import Answer, EvidenceResult, RetrievedPassage, TokenAttribution
from whyword.evidence.retriever import Retriever, load_retriever

__all__ = [
    "CORPORA",
    "DEFAULT_K",
    "DEFAULT_TEMPERATURE",
    "Answer",
    "Corpus",
    "EvidenceResult",
    "RetrievedPassage",
    "Retriever",
    "Surrogate",
    "TokenAttribution",
    "explain_with_evidence",
    "load_retriever",
]
