"""Tests of whyword.serve: the scheduler and what a replica does with a batch, without Ray."""
