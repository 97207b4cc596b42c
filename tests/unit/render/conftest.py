"""The `hostile` Explanation the render tests share."""

from __future__ import annotations

import pytest

from tests.unit.render.hand_built import HOSTILE, explanation, ig, tok
from whyword.results.explanation import Attribution, Explanation


@pytest.fixture
def hostile() -> Explanation:
    """Every kind of awkward token, a special token at each end, three signed methods and one
    unsigned, a contrastive foil, hostile user strings everywhere."""
    tokens = (
        tok(0, "<|endoftext|>", special=True),
        *(tok(10 + i, t) for i, t in enumerate(HOSTILE)),
        tok(99, "[SEP]<script>", special=True),
    )
    n = len(tokens)
    base = [0.0, 0.4, -0.2, 0.1, -0.05, 0.3, 0.0, -0.4, 7.0]
    assert len(base) == n
    return explanation(
        tokens,
        (
            Attribution("saliency", tuple(abs(s) + 0.01 for s in base), False, seconds=0.2),
            ig(base),
            Attribution("input_x_gradient", tuple(s * 2 for s in base), True, seconds=0.1),
            Attribution("occlusion", tuple(reversed(base)), True, seconds=0.3, steps=n),
        ),
        foil=" <script>alert('foil')</script>",
        target=" <img src=x onerror=alert(2)>",
        text="<script>alert('text')</script> & \"quotes\"",
        held=(0, n - 1),
        notes=("A note with <script>alert('note')</script>",),
    )
