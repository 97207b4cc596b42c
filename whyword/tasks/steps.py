"""The per-step attribution matrix of a generation: each generated token attributed to the prompt
and the tokens generated before it.

`model.generate` picks tokens with an argmax or a draw, which has no gradient, so WhyWord re-runs
the chosen sequence teacher-forced through one differentiable forward (batched by the memory
budget) and attributes each step's log-probability: row s reads the logits at the token before
generated token s and scores the token that actually came next. Those are the model's own (raw)
log-probs, before any temperature / top-k / top-p warping; a step's row value equals the
generation table's `raw_log_prob`. Cells after a row's position are NaN: not in context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from whyword.errors import InputError
from whyword.models.load import LoadedModel, load_model
from whyword.results.matrix import AttributionMatrix
from whyword.runtime.options import DEFAULT_METHODS
from whyword.tasks.attribute import Output, attribute

WHY_TEACHER_FORCED = (
    "model.generate picks tokens with an argmax or a draw, which has no gradient, so WhyWord "
    "re-runs the chosen sequence teacher-forced through a differentiable forward and attributes "
    "each step's log-probability (the model's raw distribution, before temperature / top-k / "
    "top-p)."
)


def step_outputs(prompt_length: int, steps: int) -> tuple[Output, ...]:
    """One output row per generated step: the position whose logits predicted that step."""
    first = prompt_length - 1  # the prompt's last token predicted step 1
    return tuple(Output(position=first + i) for i in range(steps))


def attribute_steps(
    prompt_ids: Sequence[int],
    generated_ids: Sequence[int],
    generated_by: str,
    methods: Sequence[str] | str = DEFAULT_METHODS,
    model: str | LoadedModel | None = None,
    **options,
) -> AttributionMatrix:
    """The generated-steps × (prompt + generated tokens) matrix; `model` must be the one named
    `generated_by` (the generation's model)."""
    lm = load_model(model)
    if lm.name != generated_by:
        raise InputError(
            f"This generation came from '{generated_by}', not '{lm.name}': pass the model "
            "that generated it (model=...)."
        )
    if not prompt_ids or not generated_ids:
        raise InputError("A generation needs a prompt and at least one generated token.")
    ids = (*prompt_ids, *generated_ids)
    outputs = step_outputs(len(prompt_ids), len(generated_ids))
    matrix = attribute(lm, ids, outputs, methods, **options)
    return replace(matrix, notes=(*matrix.notes, WHY_TEACHER_FORCED))
