"""Tests of whyword.render on hand-built results: no model is loaded."""
