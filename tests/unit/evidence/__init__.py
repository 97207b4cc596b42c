"""Tests of whyword.evidence: the REALM-style marginal, its attributions and the retriever."""
