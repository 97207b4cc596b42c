"""HotFlip, and what every kind of counterfactual starts from (`Setup`, `prepare`).

HotFlip (Ebrahimi et al., 2018): one forward + backward gives ∂F/∂e at every input token (the
engine's gradient of the row's objective: F = log p(target), or log p(target) − log p(foil)
with a foil); the first-order estimate of putting token c at position i is
∂F/∂e_i · (e_c − e_i), over a readable candidate vocabulary (whyword/models/vocabulary.py).
The best candidates at the positions whose best estimate lowers F most are then run — every
edit shown was verified by a forward (whyword/engine/edits.py), its real Δ beside its estimate.
Input reduction (Feng et al., 2018) is whyword/tasks/reduction.py, the minimal flip
whyword/tasks/flip.py; both start from the `Setup` made here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from whyword.engine import targets
from whyword.engine.edits import Answer, estimates, gradient, readings
from whyword.engine.predict import predictions
from whyword.errors import InputError, TargetError
from whyword.models.encoding import encode
from whyword.models.load import LoadedModel
from whyword.models.vocabulary import RULE, candidate_ids
from whyword.results.counterfactuals import (
    Counterfactual,
    HotFlip,
    Reading,
    Subject,
    Substitution,
)
from whyword.runtime.options import ExplainOptions
from whyword.text.tokens import label, make_tokens, special_ids


@dataclass(frozen=True, eq=False)
class Setup:
    """One request's model, input ids, answer and the reading of the unedited input."""

    lm: LoadedModel
    ids: tuple[int, ...]
    answer: Answer
    subject: Subject
    opts: ExplainOptions

    @property
    def editable(self) -> tuple[int, ...]:
        """Positions an edit may change or remove: every token but the special ones (the
        [MASK] a masked model reads included)."""
        specials = special_ids(self.lm.tokenizer)
        return tuple(i for i, t in enumerate(self.ids) if t not in specials)

    def value(self, reading: Reading) -> float:
        """F of a reading: log p(target), or log p(target) − log p(foil) with a foil."""
        return reading.target_log_prob if reading.contrast is None else reading.contrast

    def flipped(self, reading: Reading) -> bool:
        """The top-1 is no longer the target's first token (with a foil: the foil beats it)."""
        if reading.contrast is not None:
            return reading.contrast < 0
        return reading.top1_id != self.answer.target[0]

    def text_of(self, ids: Sequence[int]) -> str:
        """`ids` decoded without the special tokens (a masked model's [MASK] kept)."""
        tok = self.lm.tokenizer
        skip = special_ids(tok) - {tok.mask_token_id}
        return tok.decode([i for i in ids if i not in skip])

    def counterfactual(self, subs: Sequence[Substitution], reading: Reading) -> Counterfactual:
        """The edited input `subs` make, with its verified `reading`."""
        base = self.subject.original
        return Counterfactual(
            substitutions=tuple(sorted(subs, key=lambda s: s.position)),
            text=self.text_of(apply_edits(self.ids, subs)),
            reading=reading,
            delta_log_prob=reading.target_log_prob - base.target_log_prob,
            delta_contrast=None if base.contrast is None else reading.contrast - base.contrast,
            flipped=self.flipped(reading),
        )


def prepare(lm: LoadedModel, text: str, target, foil, opts: ExplainOptions) -> Setup:
    """Encode, resolve the target (default: the top-1) and foil, read the unedited input."""
    enc = encode(lm, text, opts.max_tokens)
    if enc.mode == "infill":
        raise InputError(
            "Edits are read at the next token or at a masked model's [MASK]; a next-token model "
            "cannot fill a [MASK] here: remove it."
        )
    top1 = predictions(lm, enc, 1)[0].candidates[0].token_id
    tgt = targets.resolve(lm, enc, target, top1, "target")
    fl = None if foil in (None, "") else targets.resolve(lm, enc, foil, top1, "foil")
    if fl is not None and fl.ids == tgt.ids:
        raise TargetError("The foil is the same as the target: pick another foil.")
    if lm.kind == "masked" and (len(tgt.ids) > 1 or (fl is not None and len(fl.ids) > 1)):
        raise TargetError(
            "On a masked model an edit is read at one [MASK]: give a target and foil of one token."
        )
    answer = Answer(tgt.ids, fl.ids if fl is not None else None)
    (original,) = readings(lm, [enc.ids], answer, opts)
    position = len(enc.ids) - 1 if lm.kind == "causal" else enc.mask_positions[0]
    subject = Subject(
        model=lm.name,
        kind=lm.kind,
        text=enc.text,
        tokens=make_tokens(lm.tokenizer, enc.ids),
        position=position,
        target=tgt.label,
        target_ids=tgt.ids,
        foil=fl.label if fl is not None else None,
        foil_ids=fl.ids if fl is not None else None,
        objective=answer.row(lm, enc.ids).objective.formula,
        original=original,
    )
    setup = Setup(lm, enc.ids, answer, subject, opts)
    if not setup.editable:
        raise InputError("The text has no token to edit besides special tokens: type a sentence.")
    return setup


def hotflip(setup: Setup, positions: int, per_position: int, limit: int | None = None) -> HotFlip:
    """The `per_position` best first-order substitutions at the `positions` best positions,
    verified (at most `limit` edited inputs: the best-ranked candidate of every position
    first, then the second, …)."""
    clock = time.perf_counter()
    lm, ids = setup.lm, setup.ids
    cands = candidate_ids(lm)  # (C,)
    if cands.numel() == 0:
        raise InputError(f"The tokenizer of '{lm.name}' has no readable word to put in the text.")
    _, grad = gradient(lm, ids, setup.answer.row(lm, ids), setup.opts)  # (T, H)
    est = estimates(lm, ids, grad, cands).cpu()  # (T, C)
    ids_t = torch.tensor(ids)  # (T,)
    est[cands[None, :] == ids_t[:, None]] = float("inf")  # (T, C): a token is not its own edit
    blocked = torch.ones(len(ids), dtype=torch.bool)  # (T,)
    blocked[list(setup.editable)] = False
    est[blocked] = float("inf")
    best = est.min(dim=-1).values  # (T,)
    n_pos = min(positions, len(setup.editable))
    chosen = torch.argsort(best)[:n_pos].tolist()  # positions, most negative estimate first
    k = min(per_position, cands.numel() - 1)
    top = torch.topk(-est[chosen], k, dim=-1).indices  # (P, K) candidate indices
    subs = [
        _substitution(lm, ids, p, int(cands[top[j, r]]), float(est[p, top[j, r]]))
        for r in range(k)
        for j, p in enumerate(chosen)
    ]  # by candidate rank, then position rank
    subs = subs[:limit] if limit is not None else subs
    inputs = [apply_edits(ids, [s]) for s in subs]
    reads = readings(lm, inputs, setup.answer, setup.opts)
    rank = {p: j for j, p in enumerate(chosen)}
    edits = sorted(
        (setup.counterfactual([s], r) for s, r in zip(subs, reads, strict=True)),
        key=lambda c: (rank[c.substitutions[0].position], c.estimate),
    )
    return HotFlip(
        subject=setup.subject,
        positions=tuple(chosen),
        edits=tuple(edits),
        vocabulary=RULE,
        vocabulary_size=int(cands.numel()),
        forwards=len(inputs),
        seconds=time.perf_counter() - clock,
        notes=(
            "Estimates are first-order (HotFlip): ∂F/∂e · (e_new − e_old) at the original input; "
            "the Δ beside each is a forward of the edited input.",
        ),
    )


def _substitution(lm, ids, position: int, new_id: int, estimate: float) -> Substitution:
    old = ids[position]
    return Substitution(
        position, old, label(lm.tokenizer, old), new_id, label(lm.tokenizer, new_id), estimate
    )


def apply_edits(ids: Sequence[int], subs: Sequence[Substitution]) -> tuple[int, ...]:
    """`ids` with each substitution's new token at its position."""
    out = list(ids)
    for s in subs:
        out[s.position] = s.new_id
    return tuple(out)
