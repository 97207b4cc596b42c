"""Tests of whyword.models: loading, devices, the one model-call layer, the memory budget, hosted limits."""
