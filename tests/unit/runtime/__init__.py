"""Tests of whyword.runtime: settings, the bounded cache type and every cache, precision."""
