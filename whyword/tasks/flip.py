"""The minimal flip: the fewest substitutions found that change the top-1 (or, with a foil, make
the foil beat the target), by a beam search over HotFlip's verified single edits.

Step 1 is HotFlip itself (its verified edits; a flip among them ends the search at one
substitution). Step n + 1 extends each of the `beam` best inputs of step n (by their *real*
F, log p(target) or log p(target) − log p(foil)) with one more verified single edit at
another position — the `EXTEND` best of each position by real effect — and runs them all.
Every edited input run counts against `budget` (HotFlip's included); the search stops at
the first step with a flip (the one that lowers F most is returned), at `max_edits`
substitutions or when the budget is spent: then "not found within the budget". The
estimates are HotFlip's at the original input: not recomputed after an edit.
"""

from __future__ import annotations

import time

from whyword.engine.edits import readings
from whyword.errors import InputError
from whyword.results.counterfactuals import Counterfactual, MinimalFlip
from whyword.tasks.hotflip import Setup, apply_edits, hotflip

EXTEND = 5  # verified single edits per position that extend a beam state


def minimal_flip(
    setup: Setup, budget: int, beam: int, max_edits: int, positions: int, per_position: int
) -> MinimalFlip:
    clock = time.perf_counter()
    subject = setup.subject
    if setup.flipped(subject.original):
        what = (
            f"the foil {subject.foil} already beats the target {subject.target}"
            if subject.foil is not None
            else f"{subject.target} is not the top-1 ({subject.original.top1} is)"
        )
        raise InputError(f"There is nothing to flip: {what}.")
    hot = hotflip(setup, positions, per_position, limit=budget)
    tried = [hot.forwards]
    found = _best_flip(setup, hot.edits)
    states = sorted(hot.edits, key=lambda c: setup.value(c.reading))
    pool = _pool(setup, states)
    depth = 1
    while found is None and depth < max_edits and sum(tried) < budget:
        depth += 1
        extended = _extend(states[:beam], pool)[: budget - sum(tried)]
        if not extended:
            break
        inputs = [apply_edits(setup.ids, subs) for subs in extended]
        reads = readings(setup.lm, inputs, setup.answer, setup.opts)
        tried.append(len(extended))
        made = [setup.counterfactual(s, r) for s, r in zip(extended, reads, strict=True)]
        found = _best_flip(setup, made)
        states = sorted(made, key=lambda c: setup.value(c.reading))
    return MinimalFlip(
        subject=subject,
        found=found,
        budget=budget,
        forwards=sum(tried),
        beam=beam,
        max_edits=max_edits,
        tried=tuple(tried),
        seconds=time.perf_counter() - clock,
        notes=(
            f"Beam search over HotFlip's verified single edits ({EXTEND} per position); "
            "estimates are not recomputed after an edit.",
        ),
    )


def _best_flip(setup: Setup, made) -> Counterfactual | None:
    flips = [c for c in made if c.flipped]
    return min(flips, key=lambda c: setup.value(c.reading)) if flips else None


def _pool(setup: Setup, singles: list[Counterfactual]) -> list[Counterfactual]:
    """The `EXTEND` best verified single edits of each position, best real F first."""
    seen: dict[int, int] = {}
    out = []
    for c in singles:  # already best first
        p = c.substitutions[0].position
        if seen.get(p, 0) < EXTEND:
            seen[p] = seen.get(p, 0) + 1
            out.append(c)
    return out


def _extend(states: list[Counterfactual], pool: list[Counterfactual]) -> list[tuple]:
    """Each state with one more single edit at a position it has not changed; no repeats."""
    out, seen = [], set()
    for state in states:
        used = {s.position for s in state.substitutions}
        for single in pool:
            (sub,) = single.substitutions
            if sub.position in used:
                continue
            subs = tuple(sorted((*state.substitutions, sub), key=lambda s: s.position))
            key = tuple((s.position, s.new_id) for s in subs)
            if key not in seen:
                seen.add(key)
                out.append(subs)
    return out
