"""`whyword explain TEXT [--target WORD] [--foil WORD] [--method ...]`: a table of scores."""

from __future__ import annotations

from whyword.cli.common import methods_of, model_of
from whyword.results.methods import METHODS
from whyword.runtime.options import PRECISIONS, ExplainOptions


def add_command(sub, common) -> None:
    e = sub.add_parser("explain", parents=[common], help="attribute a target to the input tokens")
    e.add_argument(
        "--target", default=None, help='token or word, e.g. " Paris" (default: the top-1)'
    )
    e.add_argument("--id", action="store_true", help="read --target as a token id")
    e.add_argument("--foil", default=None, help="contrast: explain log p(target) - log p(foil)")
    e.add_argument(
        "--method",
        action="append",
        default=[],
        help=f"{', '.join(METHODS)} (repeat or comma-separate)",
    )
    e.add_argument("--steps", type=int, default=32, help="IG steps of the first pass")
    e.add_argument("--max-steps", type=int, default=None, help="IG cap for adaptive refinement")
    e.add_argument(
        "--faithfulness",
        action="store_true",
        help="also score each heatmap by deletion / insertion curves (one more batched pass)",
    )
    e.add_argument(
        "--precision",
        default=ExplainOptions.precision,
        choices=list(PRECISIONS),
        help="fp32 everywhere, or bf16 autocast where the CPU/GPU has it natively (auto: per "
        "stage, bf16 only where measured close to fp32: the faithfulness curves)",
    )
    e.add_argument(
        "--tolerance",
        type=float,
        default=None,
        help="IG: refine until |completeness error| <= this (default 0.05; 0.01 for tighter scores)",
    )
    e.add_argument(
        "--fixed", action="store_true", help="plain fixed-step IG (no adaptive refinement)"
    )
    e.add_argument("--baseline", default="zero", choices=["zero", "pad", "mask"])
    e.add_argument("--mask", type=int, default=1, help="which [MASK] (1-based) the target fills")
    e.add_argument(
        "--level",
        default="token",
        choices=["token", "word", "sentence"],
        help="show scores per token, per word or per sentence (signed: summed; saliency: L2)",
    )
    e.set_defaults(run=run)


def run(args) -> str:
    from whyword.runtime.options import DEFAULT_METHODS
    from whyword.tasks.explain import explain

    methods = methods_of(args) or DEFAULT_METHODS
    target = (
        int(args.target)
        if args.target and args.target.lstrip("-").isdigit() and args.id
        else args.target
    )
    options = {
        "k": args.k,
        "n_steps": args.steps,
        "baseline": args.baseline,
        "mask_index": args.mask - 1,
        "precision": args.precision,
    }
    if args.max_steps is not None:
        options["max_steps"] = args.max_steps
    if args.tolerance is not None:
        options["ig_tolerance"] = args.tolerance
    if args.faithfulness:
        options["faithfulness"] = True
    if args.fixed:
        options["adaptive"] = False
    explanation = explain(
        args.text, target=target, foil=args.foil, methods=methods, model=model_of(args), **options
    )
    if args.json:
        return explanation.to_json(indent=2)
    return explanation_table(explanation, args.level)


def explanation_table(e, level: str = "token") -> str:
    frame = e.to_dataframe(level)
    lines = [
        f"model: {e.model} ({e.kind}, {e.mode.replace('_', ' ')})",
        f"objective: {e.formula} = {e.value:+.4f}   target {e.target!r} p={e.target_probability:.4f}"
        + (f"   foil {e.foil!r}" if e.foil else ""),
        "",
        frame.to_string(index=False, float_format=lambda v: f"{v:+.4f}"),
    ]
    for a in e.attributions:
        if a.relative_error is not None:
            lines.append(
                f"\n{a.method}: steps {a.steps}, convergence delta {a.convergence_delta:+.4f}, "
                f"relative error {100 * a.relative_error:.2f} %"
            )
    rated = [a for a in e.attributions if a.deletion is not None]
    if rated:
        lines.append(
            f"\nfaithfulness (deletion lower / insertion higher is better; a random order: "
            f"{rated[0].random_deletion:.3f} / {rated[0].random_insertion:.3f})"
        )
        lines += [
            f"  {a.method}: deletion {a.deletion:.3f}, insertion {a.insertion:.3f}" for a in rated
        ]
    lines += [f"note: {n}" for n in e.notes]
    return "\n".join(lines)
