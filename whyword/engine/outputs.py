"""Ids-level output rows (`attribute`'s `Output`) -> the RowSpecs the forward scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from whyword.attr.objectives import default_objective, get_objective
from whyword.engine.forward import Layout, RowSpec, position_layout, span_layout
from whyword.engine.targets import check_id
from whyword.errors import InputError, TargetError, shown
from whyword.models import calls as model_calls
from whyword.models.load import LoadedModel
from whyword.text.tokens import label


@dataclass(frozen=True)
class SpanTarget:
    """A stretch of the input itself as the target: tokens `start`..`end − 1` (a word, a
    phrase, a whole reply), scored teacher-forced where they stand, each read at the token
    before it: F = Σ log p(ids[j] | ids[:j]) over the span (`mean=True`: divided by its
    length). The span's own tokens are inputs too (an earlier token of a phrase conditions the
    later ones); its last token is out of the row's context. `foil`: other ids read from the
    same place (teacher-forced after the span's first position; any length): F = target − foil.
    Causal models only."""

    start: int
    end: int
    foil: Sequence[int] | None = None
    mean: bool = False

    def __post_init__(self) -> None:
        for v in (self.start, self.end):
            if isinstance(v, bool) or not isinstance(v, int):
                raise InputError(f"A span's bounds must be whole numbers, got {v!r}.")
        if self.start >= self.end:
            raise InputError(f"The span {self.start}:{self.end} has no tokens.")


def resolve_outputs(lm: LoadedModel, ids: tuple[int, ...], outputs) -> tuple[list, list[str]]:
    """One RowSpec and one readable label per output; top-1 targets from one forward."""
    if any(isinstance(o, SpanTarget) for o in outputs):
        if not all(isinstance(o, SpanTarget) for o in outputs):
            raise InputError("Explain spans and single positions in separate calls.")
        pairs = [_span_row(lm, ids, o) for o in outputs]
        return [r for r, _ in pairs], [t for _, t in pairs]
    positions = [_position(lm, ids, o.position) for o in outputs]
    need_top = [p for o, p in zip(outputs, positions, strict=True) if _wants_top1(lm, ids, o, p)]
    top1 = _top1(lm, ids, sorted(set(need_top))) if need_top else {}
    rows, labels = [], []
    for o, p in zip(outputs, positions, strict=True):
        target = _target_ids(lm, ids, o.target, p, top1, "target")
        foil = None if o.foil is None else _target_ids(lm, ids, o.foil, p, top1, "foil")
        named = o.objective
        objective = get_objective(named) if named else default_objective(foil=foil is not None)
        rows.append(
            RowSpec(
                _layout(lm, ids, p, target),
                objective,
                target,
                foil=_layout(lm, ids, p, foil) if foil else None,
                foil_ids=foil,
            )
        )
        text = "".join(label(lm.tokenizer, t) for t in target)
        vs = f" vs {''.join(label(lm.tokenizer, t) for t in foil)}" if foil else ""
        labels.append(f"{p}:{label(lm.tokenizer, ids[p])} → {text}{vs}")
    return rows, labels


def _position(lm: LoadedModel, ids, position: int | None) -> int:
    if position is None:
        if lm.kind == "causal":
            return len(ids) - 1
        mask_id = lm.tokenizer.mask_token_id
        if mask_id not in ids:
            raise InputError("A masked LM needs a position or a mask token in input_ids.")
        return ids.index(mask_id)
    if isinstance(position, bool) or not isinstance(position, int):
        raise InputError(f"An output's position must be a whole number, got {shown(position)}.")
    if not 0 <= position < len(ids):
        raise InputError(f"Position {shown(position)} is outside the input (0 to {len(ids) - 1}).")
    return position


def _wants_top1(lm, ids, output, position) -> bool:
    last = lm.kind == "masked" or position == len(ids) - 1
    return last and output.target is None


def _top1(lm: LoadedModel, ids, positions: Sequence[int]) -> dict[int, int]:
    with torch.no_grad():
        x = torch.tensor([ids], device=lm.device)  # (1, T)
        logits = model_calls.logits(lm, ids=x)[0, positions]  # (P, V)
    best = logits[:, : lm.vocab_size].argmax(dim=-1).tolist()  # (P,)
    return dict(zip(positions, best, strict=True))


def _target_ids(lm, ids, wanted, position, top1, role) -> tuple[int, ...]:
    if wanted is None:
        if lm.kind == "causal" and position < len(ids) - 1:
            return (ids[position + 1],)  # the token that actually came next
        return (top1[position],)
    items = [wanted] if isinstance(wanted, int) else list(wanted)
    if not items or any(isinstance(i, bool) or not isinstance(i, int) for i in items):
        raise TargetError(f"The {role} must be a token id or a sequence of token ids.")
    for i in items:
        check_id(lm, i)
    if lm.kind == "masked" and len(items) != 1:
        raise TargetError(
            f"At the ids level a masked position scores one token; the {role} has {len(items)}."
        )
    return tuple(items)


def _layout(lm: LoadedModel, ids, position: int, target: tuple[int, ...]) -> Layout:
    if lm.kind == "causal":
        return position_layout(ids, position, target)
    return Layout(ids, position, (), ((position, target[0]),), causal=False)


def _span_row(lm: LoadedModel, ids: tuple[int, ...], span: SpanTarget) -> tuple[RowSpec, str]:
    """The row of a span target: its layout reads the input as it stands (no insertion)."""
    if lm.kind != "causal":
        raise InputError("A span target needs a causal model: a masked model reads no spans.")
    if not 1 <= span.start < span.end <= len(ids):
        raise InputError(
            f"The span {span.start}:{span.end} must lie inside tokens 1 to {len(ids)} "
            "(the first token has nothing before it to predict it)."
        )
    target = tuple(ids[span.start : span.end])
    foil = None if span.foil is None else _target_ids(lm, ids, span.foil, 0, {}, "foil")
    prefix = "mean_" if span.mean else ""
    objective = get_objective(prefix + ("contrastive" if foil else "log_prob"))
    row = RowSpec(
        span_layout(ids, span.start, span.end),
        objective,
        target,
        foil=position_layout(ids, span.start - 1, foil) if foil else None,
        foil_ids=foil,
    )
    text = "".join(label(lm.tokenizer, t) for t in target)
    vs = f" vs {''.join(label(lm.tokenizer, t) for t in foil)}" if foil else ""
    return row, f"span {span.start}:{span.end} {text}{vs}"
