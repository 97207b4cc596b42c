"""`explain` / `explain_many`: text -> tokens -> predictions -> one-row matrices (the engine,
whyword/engine/run.py) -> Explanations. `explain` is `explain_many` of one request."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import torch

from whyword.attr import objectives
from whyword.engine import targets
from whyword.engine.cache import RESULTS, request_key
from whyword.engine.forward import RowSpec, layout_for
from whyword.engine.onepass import shared_first_pass, shared_gradients
from whyword.engine.predict import predictions as compute_predictions
from whyword.engine.run import MatrixJob, computing, run_matrices
from whyword.errors import WhyWordError
from whyword.models.encoding import Encoded, encode_each
from whyword.models.load import LoadedModel, load_model
from whyword.results.explanation import Attribution, Explanation, Prediction
from whyword.results.matrix import AttributionMatrix, Stage
from whyword.results.methods import METHODS, method_names, reads_gradient
from whyword.runtime.options import DEFAULT_METHODS, ExplainOptions
from whyword.tasks.attribute import segmentations


@dataclass(frozen=True)
class ExplainRequest:
    """What `explain` takes for one user (the methods and options are the batch's).
    `predictions`: from an earlier call on the same text and model (a retarget reuses them)."""

    text: str
    target: int | str | None = None
    foil: int | str | None = None
    predictions: tuple[Prediction, ...] | None = None


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
    The result is the one-row case of `attribute`'s matrix, and `explain_many` of one
    request. A repeated request returns the same (frozen) object from the result cache
    (whyword/engine/cache.py).
    """
    opts = options.pop("options", None) or ExplainOptions.build(**options)
    methods = method_names(methods)
    lm = load_model(model)
    preds = tuple(predictions) if predictions else None

    def compute() -> Explanation:
        (result,) = explain_many(lm, [ExplainRequest(text, target, foil, preds)], methods, opts)
        if isinstance(result, WhyWordError):
            raise result
        return result

    key = request_key("explain", lm, text, target, foil, predictions, options=opts, methods=methods)
    return RESULTS.get_or_compute(key, compute)


def explain_many(
    lm: LoadedModel,
    requests: Sequence[ExplainRequest],
    methods: Sequence[str],
    opts: ExplainOptions,
) -> list[Explanation | WhyWordError]:
    """`explain` for several users' texts with the same methods and options, in shared calls
    where the methods allow it (whyword/engine/run.py). The next-token predictions of every prompt
    come from one right-padded pass, which also gives F and ∂F/∂x when a method reads only
    that gradient. A request that fails gets its own error; the others go on."""
    methods = method_names(methods)
    results: list = [None] * len(requests)
    with computing(lm, opts):
        encs, errors = encode_each(lm, [r.text for r in requests], opts.max_tokens)
        for i, error in errors.items():
            results[i] = error
        clock = time.perf_counter()
        nexts = [
            i
            for i, e in encs.items()
            if e.mode == "next_token" and lm.kind == "causal" and not requests[i].predictions
        ]
        first = None  # with a gradient reader: the predictions' pass gives F and ∂F/∂x too
        if nexts:
            grad = reads_gradient(methods)
            with torch.set_grad_enabled(grad):
                first = shared_first_pass(lm, [encs[i] for i in nexts], opts.k)
            shared = dict(zip(nexts, first.predictions, strict=True))
            first = first if grad else None
        else:
            shared = {}
        seconds = time.perf_counter() - clock
        prepared: dict[int, Prepared] = {}
        for i in encs:
            req = requests[i]
            given = shared.get(i, req.predictions)
            try:
                prepared[i] = prepare(
                    lm, encs[i], req, given, opts, seconds if i in shared else None
                )
            except WhyWordError as error:
                results[i] = error
        order = list(prepared)
        jobs = [_job(prepared[i]) for i in order]
        primal = None
        if first is not None and jobs and set(order) <= set(nexts):
            rows = [prepared[i].row for i in order]
            primal = shared_gradients(first, [nexts.index(i) for i in order], rows)
        matrices = run_matrices(lm, jobs, methods, opts, primal) if jobs else []
        for i, matrix in zip(order, matrices, strict=True):
            results[i] = finish(lm, prepared[i], matrix, opts)
    return results


def _job(p: Prepared) -> MatrixJob:
    return MatrixJob(p.row.target.ids, (p.row,), (p.tgt.label,), p.value_objective, p.notes)


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


def prepare(
    lm, enc: Encoded, req: ExplainRequest, predictions, opts: ExplainOptions, seconds=None
) -> Prepared:
    """Predict (unless `predictions` are given) and resolve the row to attribute."""
    enc.check_slot(opts.mask_index)
    clock = time.perf_counter()
    if predictions:
        preds = tuple(predictions)
    else:
        preds = compute_predictions(lm, enc, opts.k, opts.infill_candidates)
    seconds = time.perf_counter() - clock if seconds is None else seconds
    slot = preds[opts.mask_index if enc.mode == "masked" else 0]
    top1 = slot.candidates[0].token_id
    tgt = targets.resolve(lm, enc, req.target, top1, "target", opts.mask_index)
    fl = (
        None
        if req.foil is None or req.foil == ""
        else targets.resolve(lm, enc, req.foil, top1, "foil", opts.mask_index)
    )
    row = row_for(lm, enc, tgt.ids, fl.ids if fl else None, opts.mask_index, slot)
    value_objective = objectives.value_objective(infill=enc.mode == "infill").name
    notes = tuple(p.note for p in preds if p.note)
    return Prepared(req.text, enc, preds, tgt, fl, row, seconds, value_objective, notes)


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
        note=METHODS[m.method].description,
        error_bound=ig.error_bound if ig else None,
        intervals=ig.intervals if ig else None,
        stdev=m.stdev,
        **(asdict(faith) if faith else {}),
    )
