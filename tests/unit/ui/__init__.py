"""Tests of whyword.ui: the page's handlers, controls, sessions and progressive results, without a browser."""
