"""`explain`: text -> tokens -> predictions -> target objective -> attributions -> Explanation."""

from __future__ import annotations

import time
from collections.abc import Sequence

import torch

from whyword import targets
from whyword.attribution import AttributionProblem, get_method
from whyword.encoding import Encoded, encode
from whyword.errors import InputError, TargetError
from whyword.explanation import Attribution, Explanation, Prediction
from whyword.forward import Layout, held_prefix_scorer, layout_for, sequence_scorer
from whyword.models import LoadedModel, load_model
from whyword.options import ExplainOptions
from whyword.predict import predictions as compute_predictions
from whyword.tokens import make_tokens, special_ids

DEFAULT_METHODS = ("saliency", "integrated_gradients")


def explain(
    text: str,
    target: int | str | None = None,
    foil: int | str | None = None,
    methods: Sequence[str] | str = DEFAULT_METHODS,
    model: str | LoadedModel | None = None,
    *,
    predictions: Sequence[Prediction] | None = None,
    **options,
) -> Explanation:
    """Explain why `model` predicts `target` (default: its top-1) after / inside `text`.

    `foil` makes it contrastive: log p(target) − log p(foil). `predictions` from an earlier
    call on the same text and model are reused, so retargeting skips that forward pass.
    """
    opts = options.pop("options", None) or ExplainOptions.build(**options)
    methods = (methods,) if isinstance(methods, str) else tuple(dict.fromkeys(methods))
    for name in methods:
        get_method(name)  # unknown names fail before any work
    lm = load_model(model)
    with lm.lock, torch.enable_grad():
        return _explain(lm, text, target, foil, methods, predictions, opts)


def _explain(lm, text, target, foil, methods, predictions, opts: ExplainOptions) -> Explanation:
    clock = time.perf_counter()
    enc = encode(lm, text, opts.max_tokens)
    if not opts.mask_index < enc.slots:
        raise InputError(
            f"There is no mask number {opts.mask_index + 1}: the text has {enc.slots}."
        )
    preds = (
        tuple(predictions)
        if predictions
        else compute_predictions(lm, enc, opts.k, opts.infill_candidates)
    )
    timings = {"predictions": time.perf_counter() - clock}
    slot = preds[opts.mask_index if enc.mode == "masked" else 0]
    top1 = slot.candidates[0].token_id
    tgt = targets.resolve(lm, enc, target, top1, "target", opts.mask_index)
    fl = (
        None
        if foil is None or foil == ""
        else targets.resolve(lm, enc, foil, top1, "foil", opts.mask_index)
    )
    layouts = _layouts(lm, enc, tgt, fl, opts.mask_index)
    objective = targets.OBJECTIVES["contrastive" if fl else "log_prob"]
    problem = _problem(lm, enc, layouts, objective.signs, opts)
    with torch.no_grad():
        value = float(problem.forward(problem.inputs, problem.attention_mask)[0])
        target_lp = (  # without a foil the objective is log p(target) itself: no second pass
            value
            if len(layouts) == 1
            else float(
                sequence_scorer(lm, layouts[:1], [1.0])(problem.inputs, problem.attention_mask)[0]
            )
        )
    attributions = []
    for name in methods:
        attributions.append(_attribute(name, problem, opts))
        timings[name] = attributions[-1].seconds
    timings["total"] = time.perf_counter() - clock
    return Explanation(
        text=text,
        model=lm.name,
        kind=lm.kind,
        mode=enc.mode,
        tokens=make_tokens(lm.tokenizer, layouts[0].ids),
        predictions=preds,
        target=tgt.text,
        target_ids=tgt.ids,
        foil=fl.text if fl else None,
        foil_ids=fl.ids if fl else None,
        objective=objective.name,
        formula=objective.formula,
        value=value,
        target_log_prob=target_lp,
        attributions=tuple(attributions),
        mask=opts.mask_index if enc.mode != "next_token" else None,
        params={
            **opts.to_dict(),
            "gap": enc.gap,
            "anchors": problem.anchors.nonzero().flatten().tolist(),
        },
        timings=timings,
        notes=_notes(lm, layouts[0].ids, problem, preds),
    )


def _layouts(lm, enc: Encoded, tgt, fl, mask_index: int) -> list[Layout]:
    layouts = [layout_for(lm, enc, tgt.ids, mask_index)]
    if fl is not None:
        if fl.ids == tgt.ids:
            raise TargetError(
                "The foil is the same as the target: the contrast would be zero. Pick another foil."
            )
        foil_layout = layout_for(lm, enc, fl.ids, mask_index)
        if foil_layout.ids != layouts[0].ids:
            raise TargetError(
                f"In a masked slot the target and the foil must have the same number of tokens "
                f"({len(tgt.ids)} vs {len(fl.ids)})."
            )
        layouts.append(foil_layout)
    return layouts


def _problem(
    lm, enc: Encoded, layouts: list[Layout], signs, opts: ExplainOptions
) -> AttributionProblem:
    ids = torch.tensor(layouts[0].ids)  # (T,)
    with torch.no_grad():
        inputs = lm.embed(ids).unsqueeze(0)  # (1, T, H)
    inputs.requires_grad_()  # a leaf: Captum differentiates F with respect to it
    anchors = torch.tensor([int(i) in special_ids(lm.tokenizer) for i in ids.tolist()])  # (T,)
    path_forward = None
    if lm.kind == "causal" and opts.hold_first:
        anchors[0] = True  # the attention sink: varying it makes F jump along the IG path
        path_forward = held_prefix_scorer(lm, layouts, signs, inputs.detach())
    return AttributionProblem(
        forward=sequence_scorer(lm, layouts, signs),
        inputs=inputs,
        attention_mask=torch.ones(1, len(ids), dtype=torch.long),  # (1, T)
        reference=reference_embeddings(lm, len(ids), opts.baseline),
        anchors=anchors,
        baseline_name=opts.baseline,
        path_forward=path_forward,
    )


def reference_embeddings(lm: LoadedModel, length: int, baseline: str) -> torch.Tensor:
    """The reference embedding at every position: zeros, or the pad / mask token's embedding."""
    hidden = lm.embedding.embedding_dim
    if baseline == "zero":
        return torch.zeros(1, length, hidden)  # (1, T, H)
    tok = lm.tokenizer
    if baseline == "pad":
        token_id = next(
            (i for i in (tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) if i is not None),
            None,
        )
    else:
        token_id = tok.mask_token_id
    if token_id is None:
        raise InputError(f"Model '{lm.name}' has no {baseline} token; use the zero baseline.")
    with torch.no_grad():
        vector = lm.embed(torch.tensor([token_id]))  # (1, H)
    return vector.view(1, 1, hidden).expand(1, length, hidden).clone()  # (1, T, H)


def _attribute(name: str, problem: AttributionProblem, opts: ExplainOptions) -> Attribution:
    method = get_method(name)
    start = time.perf_counter()
    result = method.run(problem, opts)
    seconds = time.perf_counter() - start
    extras = dict(result.extras)
    scores = result.scores.detach().double()  # (T,)
    return Attribution(
        method=name,
        scores=tuple(float(s) for s in scores),
        signed=method.signed,
        params=_method_params(name, problem, opts, extras),
        seconds=seconds,
        convergence_delta=extras.get("convergence_delta"),
        relative_error=extras.get("relative_error"),
        f_input=extras.get("f_input"),
        f_baseline=extras.get("f_baseline"),
        steps=extras.get("steps"),
        note=method.description,
    )


def _method_params(name: str, problem: AttributionProblem, opts: ExplainOptions, extras) -> dict:
    if name == "integrated_gradients":
        return {
            "baseline": problem.baseline_name,
            "hold_first": opts.hold_first,
            "n_steps": opts.n_steps,
            "adaptive": opts.adaptive,
            "ig_tolerance": opts.ig_tolerance,
            "ig_grading": opts.ig_grading if opts.adaptive else 1.0,
            "max_steps": opts.max_steps,
            "error_bound": extras.get("error_bound"),
            "anchors": problem.anchors.nonzero().flatten().tolist(),
            "intervals": extras.get("intervals"),
        }
    if name == "smoothgrad":
        return {
            "nt_samples": opts.nt_samples,
            "noise": opts.noise,
            "stdev": extras.get("stdev"),
            "seed": opts.seed,
        }
    if name == "occlusion":
        return {"baseline": problem.baseline_name}
    return {}


def _notes(lm, ids, problem: AttributionProblem, preds) -> tuple[str, ...]:
    notes = [p.note for p in preds if p.note]
    held = problem.anchors.nonzero().flatten().tolist()
    if held:
        specials = special_ids(lm.tokenizer)
        what = []
        if lm.kind == "causal" and 0 in held:
            what.append("the first token (an attention sink)")
        if any(i in specials for i in ids):
            what.append("special tokens")
        notes.append(
            f"The IG baseline holds {' and '.join(what)} at the real embedding; the other tokens "
            f"start from the {problem.baseline_name} embedding. Held tokens get an IG score of 0."
        )
    return tuple(notes)
