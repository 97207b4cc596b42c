"""Input reduction (Feng et al., 2018): remove the least important token while the target stays
the top-1, and show the shortest input found.

Before every removal the chosen method's scores are recomputed on the input as it now is,
through the one engine (whyword/engine/run.py) — the faithful choice: a token's importance
changes once its neighbours are gone. The least important is the smallest |score| (a signed
method's token that pushes hard *against* the target is important too). The `tries` least
important removals are run in one batched forward; the least important of them that keeps
the target as the top-1 goes. The reduction stops when none does, or one token is left.
"""

from __future__ import annotations

import math
import time

from whyword.engine.edits import readings
from whyword.engine.problems import MatrixJob
from whyword.engine.run import run_matrices
from whyword.errors import InputError
from whyword.results.counterfactuals import Reduction, ReductionStep
from whyword.results.methods import method_names
from whyword.tasks.hotflip import Setup
from whyword.text.tokens import label, special_ids


def reduce_input(setup: Setup, method: str, tries: int) -> Reduction:
    """Input reduction of `setup`'s input, by `method`."""
    clock = time.perf_counter()
    (method,) = method_names([method])
    lm, ids, answer, subject = setup.lm, setup.ids, setup.answer, setup.subject
    top = answer.target[0]
    if subject.original.top1_id != top:
        raise InputError(
            f"Input reduction keeps the target as the top-1, and {subject.target} is not the "
            f"top-1 here ({subject.original.top1} is): give no target, or the top-1."
        )
    specials = special_ids(lm.tokenizer)
    kept = list(range(len(ids)))
    steps: list[ReductionStep] = []
    forwards = 0
    while True:
        now = [ids[i] for i in kept]
        removable = [k for k, t in enumerate(now) if t not in specials]
        if len(removable) <= 1:
            stopped = "One token is left besides the special tokens."
            break
        scores = _scores(lm, now, answer, method, setup.opts)
        order = sorted(removable, key=lambda k: _size(scores[k]))
        trial = order[:tries]
        reads = readings(lm, [now[:k] + now[k + 1 :] for k in trial], answer, setup.opts)
        forwards += len(trial)
        ok = next((j for j, r in enumerate(reads) if r.top1_id == top), None)
        if ok is None:
            names = ", ".join(label(lm.tokenizer, now[k]) for k in trial)
            stopped = f"Removing any of the {len(trial)} least important tokens ({names}) changes the top-1."
            break
        k = trial[ok]
        removed = kept.pop(k)
        steps.append(
            ReductionStep(
                removed=removed,
                removed_label=subject.tokens[removed].label,
                score=float(scores[k]),
                kept=tuple(kept),
                text=setup.text_of([ids[i] for i in kept]),
                reading=reads[ok],
            )
        )
    return Reduction(
        subject=subject,
        method=method,
        recomputed=True,
        steps=tuple(steps),
        stopped=stopped,
        forwards=forwards,
        seconds=time.perf_counter() - clock,
        notes=(
            "Tokens are removed from the ids; the reduced text, typed again, may tokenize "
            "differently.",
        ),
    )


def _scores(lm, ids, answer, method: str, opts) -> tuple[float, ...]:
    """The method's scores (T,) of the row on `ids`, through the engine."""
    job = MatrixJob(tuple(ids), (answer.row(lm, ids),), ("target",))
    (matrix,) = run_matrices(lm, [job], [method], opts)
    return matrix.methods[0].scores[0]


def _size(score: float) -> float:
    return 0.0 if math.isnan(score) else abs(score)
