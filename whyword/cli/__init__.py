"""The `whyword` command: `main.py` builds the parser from one module per sub-command
(`predict`, `explain`, `positions`, `generate`, `evidence`, `app`; `serve` lives in serve/)."""
