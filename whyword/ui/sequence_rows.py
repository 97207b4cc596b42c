"""One step of the Sequence view's steps × source matrix, as the usual heatmap (pure: no
gradio, no model)."""

from __future__ import annotations

from whyword import render
from whyword.render.text import esc
from whyword.results.explanation import Attribution, Explanation
from whyword.results.matrix import AttributionMatrix


def row_explanation(matrix: AttributionMatrix, row: int) -> Explanation:
    """One step of the matrix as an `Explanation` over the tokens it could see, with its own
    generated token as the target (so the usual heatmap shows it)."""
    out = matrix.outputs[row]
    seen = [i for i, c in enumerate(matrix.context[row]) if c]
    tokens = tuple(matrix.tokens[i] for i in seen)
    attributions = tuple(
        Attribution(m.method, tuple(m.scores[row][i] for i in seen), m.signed, m.params)
        for m in matrix.methods
    )
    return Explanation(
        text="".join(t.text for t in tokens),
        model=matrix.model,
        kind=matrix.kind,
        mode="next_token",
        tokens=tokens,
        predictions=(),
        target=out.target,
        target_ids=out.target_ids,
        foil=None,
        foil_ids=None,
        objective=out.objective,
        formula=out.formula,
        value=out.value,
        target_log_prob=out.target_log_prob,
        attributions=attributions,
    )


def row_heatmap(matrix: AttributionMatrix, row: int) -> str:
    e = row_explanation(matrix, row)
    head = f"<p>Step {row + 1}: why “{esc(matrix.outputs[row].target)}” came next.</p>"
    return head + render.heatmap_html(e)
