"""`attribute`: ids + output rows -> the engine (whyword/engine/run.py) -> AttributionMatrix.

The ids-level front door beside `explain`: rows are computed together (each method runs over
all rows in batched calls sized by the memory budget), and a causal row only attributes to
the tokens before the position it reads (later cells are NaN: not in context).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch

from whyword.engine.cache import RESULTS, request_key
from whyword.engine.outputs import SpanTarget
from whyword.engine.run import MatrixJob, computing, run_matrices
from whyword.errors import InputError
from whyword.models.load import LoadedModel, load_model
from whyword.results.matrix import AttributionMatrix
from whyword.results.methods import method_names
from whyword.runtime.options import DEFAULT_METHODS, ExplainOptions


@dataclass(frozen=True)
class Output:
    """One row to explain, at the ids level.

    position: the input token whose logits read the target (causal; default the last) or a
    mask token's index (masked). target: ids, a token id, or None for the token that
    actually comes next (or the top-1 after the last token / at a mask). objective: default
    contrastive with a foil, else log_prob."""

    position: int | None = None
    target: int | Sequence[int] | None = None
    foil: int | Sequence[int] | None = None
    objective: str | None = None


def attribute(
    model: str | LoadedModel | None,
    input_ids: Sequence[int] | torch.Tensor,
    outputs: Sequence[Output] | Output,
    methods: Sequence[str] | str = DEFAULT_METHODS,
    segments: str | Sequence[str] | Sequence[tuple[int, int]] | None = None,
    *,
    text: str | None = None,
    held: Sequence[int] = (),
    **options,
) -> AttributionMatrix:
    """Attribute each output row to the input tokens with each method.

    `segments`: "word", "sentence", both, or character spans [(start, end), ...] of `text`
    (default: the ids decoded) — the matrix then also answers per segment
    (`segment_scores`, `to_dataframe(level=...)`). `outputs` may also be `SpanTarget`s: a
    stretch of the input itself as the target (Σ log p of its tokens). `held`: positions kept at
    their real embedding besides special tokens (IG's baseline, faithfulness never removes
    them): a chat template's tokens. A repeated request returns the same (frozen) matrix from
    the result cache (whyword/engine/cache.py)."""
    opts = options.pop("options", None) or ExplainOptions.build(**options)
    methods = method_names(methods)
    lm = load_model(model)
    ids = _ids(input_ids)
    outputs = (outputs,) if isinstance(outputs, Output | SpanTarget) else tuple(outputs)
    if not outputs:
        raise InputError("Give at least one output row to explain.")
    held = tuple(sorted({int(p) for p in held}))
    if any(not 0 <= p < len(ids) for p in held):
        raise InputError(f"A held position is outside the input (0 to {len(ids) - 1}).")
    key = request_key(
        "attribute", lm, ids, outputs, segments, text, held, options=opts, methods=methods
    )
    return RESULTS.get_or_compute(
        key, lambda: _attribute(lm, ids, outputs, methods, segments, text, opts, held)
    )


def _attribute(lm, ids, outputs, methods, segments, text, opts, held=()) -> AttributionMatrix:
    with computing(lm, opts):
        rows, labels = _rows(lm, ids, outputs)
        job = MatrixJob(ids, tuple(rows), tuple(labels), held=held)
        (matrix,) = run_matrices(lm, [job], methods, opts)
    if segments is None:
        return matrix
    text = lm.tokenizer.decode(list(ids)) if text is None else text
    return replace(matrix, segmentations=segmentations(lm, text, ids, segments))


def segmentations(lm: LoadedModel, text: str, ids, wanted) -> tuple:
    """The segmentations asked for: level names, or one list of character spans."""
    from whyword.text.segments import segment

    if isinstance(wanted, str):
        wanted = (wanted,)
    wanted = list(wanted)
    if wanted and not isinstance(wanted[0], str):  # character spans
        return (segment(lm.tokenizer, text, ids, "spans", spans=wanted),)
    return tuple(segment(lm.tokenizer, text, ids, level) for level in dict.fromkeys(wanted))


def _ids(input_ids) -> tuple[int, ...]:
    if isinstance(input_ids, torch.Tensor):
        if input_ids.dim() == 2 and input_ids.shape[0] == 1:
            input_ids = input_ids[0]
        if input_ids.dim() != 1:
            raise InputError("input_ids must be one sequence: shape (T,) or (1, T).")
        input_ids = input_ids.tolist()
    ids = tuple(int(i) for i in input_ids)
    if not ids:
        raise InputError("input_ids is empty.")
    return ids


def _rows(lm: LoadedModel, ids, outputs: Sequence[Output]):
    from whyword.engine.outputs import resolve_outputs

    return resolve_outputs(lm, ids, outputs)
