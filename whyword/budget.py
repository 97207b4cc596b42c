"""How many rows one forward/backward may take: a memory budget, never the step count."""

from __future__ import annotations

TOKEN_ROWS = 512  # about this many (row × token) per forward/backward


def rows_per_batch(lm, tokens: int, *, grad: bool = True, sequences_per_row: int = 1) -> int:
    """Rows of `tokens` tokens per call: ≈ TOKEN_ROWS token-rows, at least 1."""
    return max(1, min(64, TOKEN_ROWS // max(1, tokens * sequences_per_row)))
