"""`attribute`: ids + output rows -> objectives -> every method over all rows -> AttributionMatrix.

The ids-level front door beside `explain`: rows are computed together (each method runs over
all rows in batched calls sized by the memory budget), and a causal row only attributes to
the tokens before the position it reads (later cells are NaN: not in context).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch

from whyword.attr import METHODS, Problem, get_method
from whyword.cache import RESULTS, request_key
from whyword.errors import InputError
from whyword.forward import RowSpec, matrix_scorer
from whyword.matrix import AttributionMatrix, MethodScores, OutputRow, Stage
from whyword.models import LoadedModel, load_model
from whyword.objectives import value_objective
from whyword.options import DEFAULT_METHODS, ExplainOptions
from whyword.params import IGParams
from whyword.precision import autocast, curves
from whyword.problems import build_problem
from whyword.tokens import make_tokens, special_ids, token_text

HELD_NOTE = (
    "The IG baseline holds {what} at the real embedding; the other tokens start from the "
    "{baseline} embedding. Held tokens get an IG score of 0."
)


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
    **options,
) -> AttributionMatrix:
    """Attribute each output row to the input tokens with each method.

    `segments`: "word", "sentence", both, or character spans [(start, end), ...] of `text`
    (default: the ids decoded) — the matrix then also answers per segment
    (`segment_scores`, `to_dataframe(level=...)`). A repeated request returns the same
    (frozen) matrix from the result cache (whyword/cache.py)."""
    opts = options.pop("options", None) or ExplainOptions.build(**options)
    methods = _method_names(methods)
    lm = load_model(model)
    ids = _ids(input_ids)
    outputs = (outputs,) if isinstance(outputs, Output) else tuple(outputs)
    if not outputs:
        raise InputError("Give at least one output row to explain.")
    key = request_key("attribute", lm, ids, outputs, segments, text, options=opts, methods=methods)
    return RESULTS.get_or_compute(
        key, lambda: _attribute(lm, ids, outputs, methods, segments, text, opts)
    )


def _attribute(lm, ids, outputs, methods, segments, text, opts) -> AttributionMatrix:
    with lm.lock, torch.enable_grad(), autocast(opts.precision, lm.device):
        rows, labels = _rows(lm, ids, outputs)
        matrix = run_matrix(lm, ids, rows, labels, methods, opts)
    if segments is None:
        return matrix
    text = lm.tokenizer.decode(list(ids)) if text is None else text
    return replace(matrix, segmentations=segmentations(lm, text, ids, segments))


def segmentations(lm: LoadedModel, text: str, ids, wanted) -> tuple:
    """The segmentations asked for: level names, or one list of character spans."""
    from whyword.segments import segment

    if isinstance(wanted, str):
        wanted = (wanted,)
    wanted = list(wanted)
    if wanted and not isinstance(wanted[0], str):  # character spans
        return (segment(lm.tokenizer, text, ids, "spans", spans=wanted),)
    return tuple(segment(lm.tokenizer, text, ids, level) for level in dict.fromkeys(wanted))


def run_matrix(
    lm: LoadedModel,
    ids: tuple[int, ...],
    rows: Sequence[RowSpec],
    labels: Sequence[str],
    methods: Sequence[str],
    opts: ExplainOptions,
    value_objective: str | None = None,
    notes: Sequence[str] = (),
    primal: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> AttributionMatrix:
    """The shared core of `attribute` and `explain`; the caller holds `lm.lock`.

    `value_objective` names the objective whose exp is each row's target probability (default
    log_prob; infill rows use infill_posterior: one probability per target, as the bars).
    `primal`: F(x) (R,) and ∂F/∂x (R, T, H) from a pass the caller already ran (whyword/
    onepass.py). The rows' values come from the first method that evaluated F at the real
    input (saliency, input × gradient), else from one no-grad pass."""
    clock = time.perf_counter()
    uses_ig = "integrated_gradients" in methods
    problem = build_problem(lm, ids, rows, opts, uses_ig=uses_ig, primal=primal)
    context = tuple(r.in_context() for r in rows)
    timings = {"setup": time.perf_counter() - clock}
    held = tuple(int(i) for i in problem.anchors.nonzero().flatten().tolist())
    scored, found = [], None
    for name in methods:
        method_scores, method_values = _run_method(name, problem, context, opts, held)
        scored.append(method_scores)
        timings[name] = method_scores.seconds
        found = method_values if found is None else found
    clock_values = time.perf_counter()
    values = [float(v) for v in found] if found is not None else _values(lm, rows, problem)
    target_lp = _target_log_probs(lm, rows, problem, value_objective, values)  # (R,)
    timings["setup"] += time.perf_counter() - clock_values
    if opts.faithfulness:
        scored = _with_faithfulness(problem, context, opts, scored, timings)
    timings["total"] = time.perf_counter() - clock
    outputs = tuple(
        _output_row(lm, row, label, v, lp)
        for row, label, v, lp in zip(rows, labels, values, target_lp, strict=True)
    )
    return AttributionMatrix(
        model=lm.name,
        kind=lm.kind,
        tokens=make_tokens(lm.tokenizer, ids),
        outputs=outputs,
        methods=tuple(scored),
        context=context,
        held=held if "integrated_gradients" in methods else (),
        timings=timings,
        notes=tuple(notes) + _held_note(lm, ids, held, methods, opts),
    )


def _run_method(name, problem: Problem, context, opts: ExplainOptions, held=()):
    """A method's scores, and F at the real inputs (R,) if the method evaluated it. With
    `opts.on_stage`, a refining method's scores so far go to it as `Stage`s."""
    method = get_method(name)
    start = time.perf_counter()
    if opts.on_stage is not None:
        params = method.params(opts)
        tolerance = params.tolerance if isinstance(params, IGParams) else None

        def observe(out, final: bool) -> None:
            seconds = time.perf_counter() - start
            scores = _method_scores(name, method, out, context, opts, seconds)
            opts.on_stage(Stage(scores, tuple(context), final, tolerance, tuple(held)))

        problem = replace(problem, observe=observe)
    out = method.run(problem, method.params(opts))
    seconds = time.perf_counter() - start
    values = None if out.values is None else out.values.detach().cpu().tolist()  # (R,)
    return _method_scores(name, method, out, context, opts, seconds), values


def _method_scores(name, method, out, context, opts: ExplainOptions, seconds) -> MethodScores:
    """A MethodOutput on the host, NaN where a row cannot depend on the token."""
    scores = out.scores.detach().double().cpu()  # (R, T)
    cells = tuple(
        tuple(float(s) if c else math.nan for s, c in zip(row.tolist(), ctx, strict=True))
        for row, ctx in zip(scores, context, strict=True)
    )
    return MethodScores(
        method=name,
        signed=method.signed,
        scores=cells,
        params=method.params(opts),
        seconds=seconds,
        steps=out.steps,
        completeness=out.completeness,
        stdev=out.stdev,
    )


def _host(scores) -> torch.Tensor:
    return torch.tensor(scores, dtype=torch.double, device="cpu")  # (R, T) for ranking only


def _with_faithfulness(problem: Problem, context, opts, scored, timings) -> list[MethodScores]:
    """Each method's deletion / insertion curves per row (whyword/faithfulness.py)."""
    from whyword import faithfulness as faith

    clock = time.perf_counter()
    device = problem.inputs.device
    cells = faith.removable(problem, torch.tensor(context, device=device))  # (R, T)
    scores = {m.method: _host(m.scores) for m in scored}  # (R, T) each
    found = faith.all_curves(problem, cells, scores, precision=curves(opts.precision, device))
    out = [replace(m, faithfulness=found[m.method]) for m in scored]
    timings["faithfulness"] = time.perf_counter() - clock
    return out


def _values(lm, rows, problem: Problem) -> list[float]:
    with torch.no_grad():
        return _batched(problem.forward, problem)


def _target_log_probs(lm, rows, problem: Problem, objective: str | None, values) -> list[float]:
    want = value_objective(objective)
    if all(r.objective.name == want.name for r in rows):
        return list(values)  # the value already is log p(target)
    plain = [
        RowSpec(r.target, want, r.target_ids, pool=r.pool if want.needs_pool else ()) for r in rows
    ]
    with torch.no_grad():
        return _batched(matrix_scorer(lm, plain), problem)


def _batched(forward, problem: Problem) -> list[float]:
    out = []
    for _, chunk in problem.chunks(grad=False):
        out += [float(v) for v in forward(chunk.inputs.detach(), *chunk.args())]
    return out


def _output_row(lm, row: RowSpec, label: str, value: float, target_lp: float) -> OutputRow:
    def text(ids):
        return "".join(token_text(lm.tokenizer, i) for i in ids)

    return OutputRow(
        label=label,
        position=row.target.scored[0][0],
        target=text(row.target_ids),
        target_ids=row.target_ids,
        foil=text(row.foil_ids) if row.foil_ids else None,
        foil_ids=row.foil_ids,
        objective=row.objective.name,
        formula=row.objective.formula,
        value=value,
        target_log_prob=target_lp,
    )


def _held_note(lm, ids, held, methods, opts) -> tuple[str, ...]:
    if "integrated_gradients" not in methods or not held:
        return ()
    what = []
    if lm.kind == "causal" and 0 in held:
        what.append("the first token (an attention sink)")
    if any(i in special_ids(lm.tokenizer) for i in ids):
        what.append("special tokens")
    return (HELD_NOTE.format(what=" and ".join(what), baseline=opts.baseline),)


def _method_names(methods) -> tuple[str, ...]:
    names = (methods,) if isinstance(methods, str) else tuple(dict.fromkeys(methods))
    if not names:
        raise InputError(f"Pick at least one method: {', '.join(METHODS)}.")
    for name in names:
        get_method(name)  # unknown names fail before any work
    return names


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
    from whyword.outputs import resolve_outputs

    return resolve_outputs(lm, ids, outputs)
