"""Property-based fuzz (Hypothesis) of every API route of the page and of the share-link loaders:
odd Unicode, numbers at and past every bound, wrong types, unknown names, missing and extra
arguments. Every case ends in a result or one WhyWord sentence (`kit.answer`); a user's mistake
leaves one log line and no traceback; a normal request answers afterwards. Fixed seed
(`derandomize=True`), a bounded number of cases per route (`kit.FAST`); benchmarks/fuzz.py runs
the same strategies for longer, and against a running app.
"""
