"""Requests of different users in shared calls: their inputs right-padded into one Problem.

A class presses *Explain* at once; each request alone pays a fixed cost per forward/backward
call (the weights stream through the cores once) plus a cost per row. Here several requests'
rows go into the same calls: every input is right-padded to the longest with attention mask 0,
which leaves each real position's logits unchanged (a padded key gets no attention weight, no
position moves), so each request gets the scores it gets alone, to float rounding (the tests
check 1e-5). Shared: the next-token predictions, F, saliency, input × gradient and occlusion (each
token at the reference in turn: a padded position set to the reference changes nothing, and
its cell is dropped), and their deletion / insertion curves. Not shared: IG, SmoothGrad and
AttnLRP (they refine per input or change the model) — those run alone (whyword/scheduler.py).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch

from whyword.attr import Problem, get_method
from whyword.attr.problem import input_gradients
from whyword.attribute import _batched, _method_names, _output_row
from whyword.encoding import Encoded
from whyword.errors import WhyWordError
from whyword.explanation import Explanation, Prediction
from whyword.forward import RowSpec, matrix_scorer
from whyword.matrix import AttributionMatrix, MethodScores
from whyword.models import LoadedModel
from whyword.objectives import value_objective
from whyword.onepass import GRADIENT_METHODS, shared_first_pass, shared_gradients
from whyword.options import ExplainOptions
from whyword.precision import curves
from whyword.problems import reference_embeddings
from whyword.tokens import make_tokens, special_ids

# one forward + backward, or one batched no-grad pass of perturbed rows; no model edit
BATCHABLE = frozenset({"saliency", "input_x_gradient", "occlusion"})


@dataclass(frozen=True)
class MatrixJob:
    """One request's matrix: its input ids, rows and their labels."""

    ids: tuple[int, ...]
    rows: tuple[RowSpec, ...]
    labels: tuple[str, ...]
    value_objective: str | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        assert self.rows and len(self.rows) == len(self.labels), "one label per row"
        assert all(r.target.ids == self.ids for r in self.rows), "rows read the job's input"
        assert not any(r.pool for r in self.rows), "infill pools are not batched"


@dataclass(frozen=True)
class ExplainRequest:
    """What `explain` takes for one user (the methods and options are the batch's)."""

    text: str
    target: int | str | None = None
    foil: int | str | None = None


BUCKET = 1.5  # a shared call takes inputs up to 1.5× its shortest one's length (+ 4 tokens)


def length_buckets(lengths: Sequence[int], most: int) -> list[list[int]]:
    """Indices grouped by input length so padding stays under `BUCKET` × the shortest (+ 4),
    at most `most` per group: shorter groups first."""
    out: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        last = out[-1] if out else None
        if last and len(last) < most and lengths[i] <= BUCKET * lengths[last[0]] + 4:
            last.append(i)
        else:
            out.append([i])
    return out


def can_batch(methods: Sequence[str]) -> bool:
    return bool(methods) and set(methods) <= BATCHABLE


def run_matrices(
    lm: LoadedModel,
    jobs: Sequence[MatrixJob],
    methods: Sequence[str],
    opts: ExplainOptions,
    primal: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> list[AttributionMatrix]:
    """`run_matrix` for many inputs at once, each method one batched pass over all their rows.
    `primal`: F (R,) and ∂F/∂x (R, W, H) from the shared predictions pass (whyword/onepass.py).
    The caller holds `lm.lock`."""
    methods = _method_names(methods)
    assert can_batch(methods), f"only {sorted(BATCHABLE)} share calls across inputs"
    clock = time.perf_counter()
    problem, spans = merged_problem(lm, jobs, opts)
    width = problem.n_tokens
    contexts = [tuple(r.in_context() for r in job.rows) for job in jobs]
    padded_context = [c + (False,) * (width - len(c)) for ctx in contexts for c in ctx]
    timings = {"setup": time.perf_counter() - clock}
    gradient = [m for m in methods if m in GRADIENT_METHODS]
    first_pass = 0.0
    if gradient:  # one forward + backward for saliency and input × gradient alike
        start = time.perf_counter()
        primal = primal if primal is not None else input_gradients(problem)  # (R,), (R, W, H)
        problem = replace(problem, primal=primal)
        first_pass = time.perf_counter() - start
    scores: dict[str, tuple[torch.Tensor, object]] = {}
    for name in methods:
        start = time.perf_counter()
        method = get_method(name)
        out = method.run(problem, method.params(opts))  # (R, Tmax)
        timings[name] = time.perf_counter() - start + (first_pass if [name] == gradient[:1] else 0)
        cells = out.scores.detach().double().cpu()  # (R, Tmax)
        cells[~torch.tensor(padded_context)] = float("nan")  # out of context or padding
        scores[name] = (cells, out)
    clock_values = time.perf_counter()
    if gradient:  # F at the real inputs came with the gradient
        values = [float(v) for v in primal[0].detach().cpu().tolist()]  # (R,)
    else:
        with torch.no_grad():
            values = _batched(problem.forward, problem)  # R floats
    target_lp = _target_log_probs(lm, jobs, problem, values)
    timings["setup"] += time.perf_counter() - clock_values
    faith = _faithfulness(lm, problem, jobs, spans, padded_context, scores, opts)
    if faith:
        timings["faithfulness"] = faith.pop("seconds")
    timings["total"] = time.perf_counter() - clock
    matrices = []
    for j, (job, span) in enumerate(zip(jobs, spans, strict=True)):
        t = len(job.ids)
        scored = []
        for name, (cells, out) in scores.items():
            method = get_method(name)
            rows = tuple(tuple(row[:t].tolist()) for row in cells[span])
            scored.append(
                MethodScores(
                    method=name,
                    signed=method.signed,
                    scores=rows,
                    params=method.params(opts),
                    seconds=timings[name],
                    steps=t if name == "occlusion" else out.steps,  # its own tokens, not W
                    faithfulness=faith[name][span] if faith else None,
                )
            )
        outputs = tuple(
            _output_row(lm, row, label, v, lp)
            for row, label, v, lp in zip(
                job.rows, job.labels, values[span], target_lp[span], strict=True
            )
        )
        matrices.append(
            AttributionMatrix(
                model=lm.name,
                kind=lm.kind,
                tokens=make_tokens(lm.tokenizer, job.ids),
                outputs=outputs,
                methods=tuple(scored),
                context=contexts[j],
                held=(),
                timings=dict(timings),
                notes=job.notes,
            )
        )
    return matrices


def merged_problem(lm: LoadedModel, jobs: Sequence[MatrixJob], opts: ExplainOptions):
    """One Problem over every job's rows, inputs right-padded to the longest (mask 0 there);
    and each job's slice of its rows."""
    from whyword.budget import RowShape, batch_rows

    device = lm.device
    width = max(len(job.ids) for job in jobs)
    rows = [r for job in jobs for r in job.rows]
    xs, masks, refs, spans, at = [], [], [], [], 0
    with torch.no_grad():
        for job in jobs:
            t, n, pad = len(job.ids), len(job.rows), width - len(job.ids)
            x = lm.embed(torch.tensor(job.ids, device=device)).unsqueeze(0)  # (1, T, H)
            xs.append(torch.nn.functional.pad(x, (0, 0, 0, pad)).expand(n, -1, -1))  # (n, W, H)
            ref = reference_embeddings(lm, t, opts.baseline)  # (1, T, H)
            refs.append(torch.nn.functional.pad(ref, (0, 0, 0, pad)).expand(n, -1, -1))
            mask = torch.zeros(n, width, dtype=torch.long, device=device)  # (n, W)
            mask[:, :t] = 1
            masks.append(mask)
            spans.append(slice(at, at + n))
            at += n
    shape = RowShape(
        lm,
        sequences_per_row=max(len(row.layouts) for row in rows),
        scored_positions=max(sum(len(x.scored) for x in row.layouts) for row in rows),
        extra_tokens=max(len(x.inserted) for row in rows for x in row.layouts),
    )
    explicit = opts.internal_batch_size
    problem = Problem(
        forward=matrix_scorer(lm, rows, padded=True),
        inputs=torch.cat(xs).clone().requires_grad_(),  # (R, W, H): a leaf per row
        rows=torch.arange(len(rows), device=device),  # (R,)
        attention_mask=torch.cat(masks),  # (R, W)
        reference=torch.cat(refs),  # (R, W, H)
        anchors=torch.zeros(width, dtype=torch.bool, device=device),  # (W,) per row below
        batch_rows=lambda t, grad=True, wide=False: batch_rows(
            shape, t, grad=grad, explicit=explicit, wide=wide
        ),
        baseline_name=opts.baseline,
        model=lm,
    )
    return problem, spans


def _target_log_probs(lm, jobs, problem: Problem, values: list[float]) -> list[float]:
    wants = [value_objective(job.value_objective) for job in jobs]
    rows = [(r, want) for job, want in zip(jobs, wants, strict=True) for r in job.rows]
    if all(r.objective.name == want.name for r, want in rows):
        return values  # the value already is log p(target)
    plain = [RowSpec(r.target, want, r.target_ids) for r, want in rows]
    with torch.no_grad():
        return _batched(matrix_scorer(lm, plain, padded=True), problem)


def _faithfulness(lm, problem, jobs, spans, padded_context, scores, opts) -> dict:
    """Each method's deletion / insertion curves, all requests in the same passes; each
    request's random orders start from the seed as they do alone."""
    if not opts.faithfulness:
        return {}
    from whyword import faithfulness as faith

    clock = time.perf_counter()
    specials = special_ids(lm.tokenizer)
    held = [
        [int(i) in specials for i in job.ids] + [False] * (problem.n_tokens - len(job.ids))
        for job in jobs
        for _ in job.rows
    ]
    device = problem.inputs.device
    context = torch.tensor(padded_context, device=device) & ~torch.tensor(held, device=device)
    cells = faith.removable(problem, context)  # (R, W): the first token held on causal models
    restart = frozenset(span.start for span in spans)
    chosen = curves(opts.precision, device)
    by_method = {name: cells_ for name, (cells_, _) in scores.items()}  # (R, W) each
    out: dict = faith.all_curves(problem, cells, by_method, restart=restart, precision=chosen)
    out["seconds"] = time.perf_counter() - clock
    return out


def next_token_predictions(
    lm: LoadedModel, encs: Sequence[Encoded], k: int
) -> list[tuple[Prediction, ...]]:
    """The top-k next tokens of several prompts in one right-padded forward pass."""
    assert all(e.mode == "next_token" for e in encs) and lm.kind == "causal"
    with torch.no_grad():
        return list(shared_first_pass(lm, encs, k).predictions)


def explain_many(
    lm: LoadedModel,
    requests: Sequence[ExplainRequest],
    methods: Sequence[str],
    opts: ExplainOptions,
) -> list[Explanation | WhyWordError]:
    """`explain` for several users' texts with the same methods and options, in shared calls.

    A request that fails gets its own error; the others go on. The caller holds `lm.lock`."""
    from whyword.encoding import encode
    from whyword.explain import alone, finish, prepare

    results: list = [None] * len(requests)
    encs: dict[int, Encoded] = {}
    for i, req in enumerate(requests):
        try:
            encs[i] = encode(lm, req.text, opts.max_tokens)
        except WhyWordError as error:
            results[i] = error
    clock = time.perf_counter()
    nexts = [i for i, e in encs.items() if e.mode == "next_token" and lm.kind == "causal"]
    first = None  # with a gradient method: the predictions' pass gives F and ∂F/∂x too
    if nexts and GRADIENT_METHODS & set(methods):
        with torch.enable_grad():
            first = shared_first_pass(lm, [encs[i] for i in nexts], opts.k)
        preds = list(first.predictions)
    else:
        preds = next_token_predictions(lm, [encs[i] for i in nexts], opts.k) if nexts else []
    shared = dict(zip(nexts, preds, strict=True))
    seconds = time.perf_counter() - clock if nexts else None
    prepared = {}
    for i in encs:
        req = requests[i]
        try:
            prepared[i] = prepare(
                lm,
                req.text,
                req.target,
                req.foil,
                shared.get(i),
                opts,
                seconds if i in shared else None,
            )
        except WhyWordError as error:
            results[i] = error
    pooled = [i for i, p in prepared.items() if p.row.pool]
    plain = [i for i in prepared if i not in pooled]
    with torch.enable_grad():
        jobs = [_job(prepared[i]) for i in plain]
        primal = None
        if first is not None and jobs and set(plain) <= set(nexts):
            rows = [prepared[i].row for i in plain]
            primal = shared_gradients(first, [nexts.index(i) for i in plain], rows)
        matrices = run_matrices(lm, jobs, methods, opts, primal) if jobs else []
        for i, matrix in zip(plain, matrices, strict=True):
            results[i] = finish(lm, prepared[i], matrix, opts)
        for i in pooled:  # infill rows carry their own candidate pools: alone
            results[i] = finish(lm, prepared[i], alone(lm, prepared[i], methods, opts), opts)
    return results


def _job(p) -> MatrixJob:
    return MatrixJob(p.row.target.ids, (p.row,), (p.tgt.label,), p.value_objective, p.notes)


__all__ = [
    "BATCHABLE",
    "ExplainRequest",
    "MatrixJob",
    "can_batch",
    "explain_many",
    "length_buckets",
    "next_token_predictions",
    "run_matrices",
]
