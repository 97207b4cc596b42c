"""`counterfactuals`: what would change the answer — HotFlip (whyword/tasks/hotflip.py), input
reduction (whyword/tasks/reduction.py) and the minimal flip (whyword/tasks/flip.py), each on the
`Setup` `prepare` makes: the input, the answer and a forward of the unedited input, all inside
the engine's `computing` (the model's lock, gradients on, the request's precision).
"""

from __future__ import annotations

from whyword.engine.run import computing
from whyword.errors import InputError, shown
from whyword.models.load import LoadedModel, load_model
from whyword.results.counterfactuals import HotFlip, MinimalFlip, Reduction, WhatIf
from whyword.runtime.options import ExplainOptions
from whyword.tasks.flip import minimal_flip
from whyword.tasks.hotflip import hotflip, prepare
from whyword.tasks.reduction import reduce_input

KINDS = ("hotflip", "reduce", "flip")


def counterfactuals(
    text: str,
    target: int | str | None = None,
    foil: int | str | None = None,
    kind: str = "hotflip",
    model: str | LoadedModel | None = None,
    *,
    positions: int = 5,
    per_position: int = 20,
    method: str = "input_x_gradient",
    tries: int = 3,
    budget: int = 300,
    beam: int = 3,
    max_edits: int = 4,
    **options,
) -> HotFlip | Reduction | MinimalFlip:
    """What would change the answer of `model` to `text` (next token, or the first [MASK]).

    kind "hotflip": single-token substitutions at the `positions` positions whose best
    first-order estimate lowers F most, `per_position` candidates each, all verified.
    "reduce": remove the least important token by `method` (|score|, recomputed after each
    removal; the `tries` least important are run, the first that keeps the target top-1 goes)
    while the target stays the top-1. "flip": a beam search (`beam` wide, up to `max_edits`
    substitutions, at most `budget` edited inputs run, HotFlip's included) for the fewest
    substitutions that change the top-1 — or, with a foil, make the foil beat the target.
    Other keyword arguments are `ExplainOptions` (precision, internal_batch_size, …)."""
    if kind not in KINDS:
        raise InputError(f"Unknown kind '{kind}'. Choose from: {', '.join(KINDS)}.")
    _check_int("positions", positions, 1, 100)
    _check_int("per_position", per_position, 1, 200)
    _check_int("tries", tries, 1, 50)
    _check_int("budget", budget, 1, 100_000)
    _check_int("beam", beam, 1, 50)
    _check_int("max_edits", max_edits, 1, 20)
    opts = options.pop("options", None) or ExplainOptions.build(**options)
    lm = load_model(model)
    with computing(lm, opts):
        setup = prepare(lm, text, target, foil, opts)
        if kind == "hotflip":
            return hotflip(setup, positions, per_position)
        if kind == "reduce":
            return reduce_input(setup, method, tries)
        return minimal_flip(setup, budget, beam, max_edits, positions, per_position)


def _check_int(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(f"{name} must be a whole number from {low} to {high}, got {shown(value)}.")


def what_if(
    text: str,
    target: int | str | None = None,
    foil: int | str | None = None,
    model: str | LoadedModel | None = None,
    *,
    budget: int = 120,
    per_position: int = 20,
    method: str = "input_x_gradient",
    flip_budget: int = 300,
    **options,
) -> WhatIf:
    """The page's panel in one call on one model lock: HotFlip at every editable position, at
    most `budget` edited inputs (each position's best candidate first, then its second, …, so
    every position is verified when `budget` ≥ its number of tokens), input reduction by
    `method`, and the minimal flip (`flip_budget` edited inputs). Its `hotflip` gives the
    counterfactual agreement (whyword/results/edit_agreement.py) a verified effect at every
    position, not only at the top five."""
    _check_int("budget", budget, 1, 100_000)
    _check_int("per_position", per_position, 1, 200)
    _check_int("flip_budget", flip_budget, 1, 100_000)
    opts = options.pop("options", None) or ExplainOptions.build(**options)
    lm = load_model(model)
    with computing(lm, opts):
        setup = prepare(lm, text, target, foil, opts)
        hot = hotflip(setup, len(setup.editable), per_position, limit=budget)
        reduction, reduction_failed = _part(lambda: reduce_input(setup, method, 3))
        flip, flip_failed = _part(lambda: minimal_flip(setup, flip_budget, 3, 4, 5, per_position))
    return WhatIf(hot, reduction, reduction_failed, flip, flip_failed)


def _part(run):
    """A part's result and "", or None and the one sentence saying why it cannot run."""
    try:
        return run(), ""
    except InputError as error:
        return None, str(error)
