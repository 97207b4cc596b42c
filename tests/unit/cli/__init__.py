"""Tests of whyword.cli: the whyword command."""
