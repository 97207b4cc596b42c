"""Tests of whyword.results: the attribution matrix and the explanation."""
