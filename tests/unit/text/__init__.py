"""Tests of whyword.text: token labels, byte groups and segments."""
