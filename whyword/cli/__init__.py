"""The `whyword` command: `main.py` (predict, explain, positions, generate, app, serve) and
`evidence.py` (`whyword evidence`)."""
