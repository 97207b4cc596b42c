"""Tests of whyword.attr: the attribution maths, each method, objectives and the registries."""
