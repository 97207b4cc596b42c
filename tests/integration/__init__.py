"""Integration tests: across layers end to end (the launched app, processes, packaging, docs, hosted mode)."""
