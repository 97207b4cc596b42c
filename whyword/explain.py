"""`explain`: text -> tokens -> predictions -> a one-row attribution matrix -> Explanation."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import torch

from whyword import objectives, targets
from whyword.attribute import _method_names, run_matrix, segmentations
from whyword.cache import RESULTS, request_key
from whyword.encoding import Encoded, encode
from whyword.explanation import Attribution, Explanation, Prediction
from whyword.forward import RowSpec, layout_for
from whyword.matrix import AttributionMatrix, Stage
from whyword.method_info import METHOD_INFO
from whyword.models import load_model
from whyword.onepass import first_pass, gradient, wants_first_pass
from whyword.options import DEFAULT_METHODS, ExplainOptions
from whyword.precision import autocast
from whyword.predict import predictions as compute_predictions


def explain(
    text: str,
    target: int | str | None = None,
    foil: int | str | None = None,
    methods: Sequence[str] | str = DEFAULT_METHODS,
    model=None,
    *,
    predictions: Sequence[Prediction] | None = None,
    **options,
) -> Explanation:
    """Explain why `model` predicts `target` (default: its top-1) after / inside `text`.

    `foil` makes it contrastive: log p(target) − log p(foil). `predictions` from an earlier
    call on the same text and model are reused, so retargeting skips that forward pass.
    The result is the one-row case of `attribute`'s matrix. A repeated request returns the
    same (frozen) object from the result cache (whyword/cache.py).
    """
    opts = options.pop("options", None) or ExplainOptions.build(**options)
    methods = _method_names(methods)
    lm = load_model(model)

    def compute() -> Explanation:
        with lm.lock, torch.enable_grad(), autocast(opts.precision, lm.device):
            return _explain(lm, text, target, foil, methods, predictions, opts)

    key = request_key("explain", lm, text, target, foil, predictions, options=opts, methods=methods)
    return RESULTS.get_or_compute(key, compute)


@dataclass(frozen=True)
class Prepared:
    """One explain request up to its attribution: encoded, predicted, its row resolved."""

    text: str
    enc: Encoded
    preds: tuple[Prediction, ...]
    tgt: targets.Target
    fl: targets.Target | None
    row: RowSpec
    seconds: float  # the predictions' time
    value_objective: str
    notes: tuple[str, ...]
    # From the one-pass route (whyword/onepass.py): F(x) and dF/dx of the row, or None.
    primal: tuple[torch.Tensor, torch.Tensor] | None = None  # (1,), (1, T, H)


def _explain(lm, text, target, foil, methods, predictions, opts: ExplainOptions) -> Explanation:
    p = prepare(lm, text, target, foil, predictions, opts, methods=methods)
    return finish(lm, p, alone(lm, p, methods, opts), opts)


def alone(lm, p: Prepared, methods, opts: ExplainOptions) -> AttributionMatrix:
    """The prepared request's one-row matrix, computed on its own (not batched)."""
    return run_matrix(
        lm,
        p.row.target.ids,
        [p.row],
        [p.tgt.label],
        methods,
        opts,
        p.value_objective,
        list(p.notes),
        p.primal,
    )


def prepare(
    lm, text, target, foil, predictions, opts: ExplainOptions, seconds=None, methods=()
) -> Prepared:
    """Encode, predict (unless `predictions` are given) and resolve the row to attribute.
    With `methods` that allow it, predictions and the row's gradient come from one pass."""
    enc = encode(lm, text, opts.max_tokens)
    enc.check_slot(opts.mask_index)
    clock = time.perf_counter()
    first = first_pass(lm, enc, opts.k) if wants_first_pass(enc, methods, predictions) else None
    if first is not None:
        preds = first.predictions
    elif predictions:
        preds = tuple(predictions)
    else:
        preds = compute_predictions(lm, enc, opts.k, opts.infill_candidates)
    seconds = time.perf_counter() - clock if seconds is None else seconds
    slot = preds[opts.mask_index if enc.mode == "masked" else 0]
    top1 = slot.candidates[0].token_id
    tgt = targets.resolve(lm, enc, target, top1, "target", opts.mask_index)
    fl = (
        None
        if foil is None or foil == ""
        else targets.resolve(lm, enc, foil, top1, "foil", opts.mask_index)
    )
    row = row_for(lm, enc, tgt.ids, fl.ids if fl else None, opts.mask_index, slot)
    value_objective = objectives.value_objective(infill=enc.mode == "infill").name
    notes = tuple(p.note for p in preds if p.note)
    primal = None if first is None else gradient(lm, first, row)  # (1,), (1, T, H)
    return Prepared(text, enc, preds, tgt, fl, row, seconds, value_objective, notes, primal)


def finish(lm, p: Prepared, matrix: AttributionMatrix, opts: ExplainOptions) -> Explanation:
    """The Explanation of a prepared request from its one-row matrix."""
    words = segmentations(lm, p.enc.text, p.row.target.ids, ("word", "sentence"))
    return replace(
        _explanation(p.text, p.enc, p.preds, p.tgt, p.fl, matrix, opts, p.seconds),
        segmentations=words,
    )


def with_stage(explanation: Explanation, stage: Stage, order: Sequence[str] = ()) -> Explanation:
    """`explanation` (an earlier result of the same text, model and target, e.g. its one-pass
    methods) with a refining method's scores so far (`ExplainOptions.on_stage`) in place of or
    beside its own; attributions in `order` (method names) where given."""
    new = _attribution(stage.scores, stage.context[0])
    shown = [a for a in explanation.attributions if a.method != new.method] + [new]
    rank = {name: i for i, name in enumerate(order)}
    shown.sort(key=lambda a: rank.get(a.method, len(rank)))
    return replace(explanation, attributions=tuple(shown), held=stage.held or explanation.held)


def row_for(lm, enc: Encoded, target, foil, mask_index: int, slot: Prediction) -> RowSpec:
    """The one row `explain` attributes: log p(target), its contrast with a foil, or — infill
    on a causal LM — the target's probability among the candidates the bars show."""
    main = layout_for(lm, enc, target, mask_index)
    foil_layout = None if foil is None else layout_for(lm, enc, foil, mask_index)
    objective = objectives.default_objective(foil=foil is not None, infill=enc.mode == "infill")
    pool = ()
    if objective.needs_pool:
        others = [c for c in slot.pool if (c,) != tuple(target)]
        pool = tuple(layout_for(lm, enc, (c,), mask_index) for c in others)
    return RowSpec(
        main,
        objective,
        tuple(target),
        foil=foil_layout,
        foil_ids=tuple(foil) if foil is not None else None,
        pool=pool,
    )


def _explanation(text, enc, preds, tgt, fl, matrix: AttributionMatrix, opts, seconds):
    out = matrix.outputs[0]
    attributions = tuple(_attribution(m, matrix.context[0]) for m in matrix.methods)
    return Explanation(
        text=text,
        model=matrix.model,
        kind=matrix.kind,
        mode=enc.mode,
        tokens=matrix.tokens,
        predictions=preds,
        target=tgt.text,
        target_ids=tgt.ids,
        foil=fl.text if fl else None,
        foil_ids=fl.ids if fl else None,
        objective=out.objective,
        formula=out.formula,
        value=out.value,
        target_log_prob=out.target_log_prob,
        attributions=attributions,
        mask=opts.mask_index if enc.mode != "next_token" else None,
        params=opts.to_dict(),
        timings={"predictions": seconds, **matrix.timings},
        notes=matrix.notes,
        held=matrix.held,
        gap=enc.gap,
    )


def _attribution(m, context) -> Attribution:
    """Row 0 of a method's scores. A token the target cannot depend on (infill: the last
    token of the right context is scored, never read) keeps the 1-D view's score of 0."""
    scores = tuple(s if c else 0.0 for s, c in zip(m.scores[0], context, strict=True))
    ig = m.completeness[0] if m.completeness else None
    faith = m.faithfulness[0] if m.faithfulness else None
    return Attribution(
        method=m.method,
        scores=scores,
        signed=m.signed,
        params=m.params,
        seconds=m.seconds,
        convergence_delta=ig.delta if ig else None,
        relative_error=ig.relative_error if ig else None,
        f_input=ig.f_input if ig else None,
        f_baseline=ig.f_baseline if ig else None,
        steps=ig.steps if ig else m.steps,
        note=METHOD_INFO[m.method].description,
        error_bound=ig.error_bound if ig else None,
        intervals=ig.intervals if ig else None,
        stdev=m.stdev,
        **(asdict(faith) if faith else {}),
    )
