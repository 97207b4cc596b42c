"""Tests of the test kit itself (tests/tolerances.py)."""
