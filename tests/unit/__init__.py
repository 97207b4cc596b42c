"""Unit tests: one folder per whyword sub-package, each testing that package's behaviour."""
