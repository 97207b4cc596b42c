"""The `whyword` command: `whyword predict TEXT` and `whyword explain TEXT --target WORD`."""

from __future__ import annotations

import argparse
import json
import os
import sys

from whyword.errors import WhyWordError


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        out = args.run(args)
    except WhyWordError as error:
        print(f"whyword: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(out)
    return 0


def _predict(args) -> str:
    from whyword.predict import predict

    frame = predict(args.text, k=args.k, model=_model(args))
    if args.json:
        return json.dumps(
            {"rows": frame.to_dict(orient="records"), "notes": frame.attrs.get("notes", [])},
            ensure_ascii=False,
        )
    notes = "\n".join(frame.attrs.get("notes", []))
    table = frame.to_string(index=False, formatters={"probability": "{:.6f}".format})
    return table + (f"\n\n{notes}" if notes else "")


def _explain(args) -> str:
    from whyword.explain import explain
    from whyword.options import DEFAULT_METHODS

    methods = [m for group in args.method for m in group.split(",") if m] or DEFAULT_METHODS
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
    }
    if args.max_steps is not None:
        options["max_steps"] = args.max_steps
    if args.tolerance is not None:
        options["ig_tolerance"] = args.tolerance
    if args.fixed:
        options["adaptive"] = False
    explanation = explain(
        args.text, target=target, foil=args.foil, methods=methods, model=_model(args), **options
    )
    if args.json:
        return explanation.to_json(indent=2)
    return _explanation_table(explanation)


def _model(args):
    """The model by name, on `--device` when one is given (else auto: CUDA, MPS, CPU)."""
    if args.device is None:
        return args.model
    from whyword.models import load_model

    return load_model(args.model, device=args.device)


def _explanation_table(e) -> str:
    frame = e.to_dataframe()
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
    lines += [f"note: {n}" for n in e.notes]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="whyword", description="Why does a language model predict that word?"
    )
    sub = parser.add_subparsers(required=True, metavar="{predict,explain}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "text", help='the prompt; use [MASK] for a gap, e.g. "The capital of France is [MASK]."'
    )
    common.add_argument(
        "--model",
        default=None,
        help="Hub id or local folder (default: embedded SmolLM2-135M-Instruct)",
    )
    common.add_argument("-k", type=int, default=10, help="how many predictions to show")
    common.add_argument(
        "--device",
        default=None,
        help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps (default: WHYWORD_DEVICE or auto)",
    )
    common.add_argument("--json", action="store_true", help="machine-readable output")
    p = sub.add_parser("predict", parents=[common], help="top-k predictions")
    p.set_defaults(run=_predict)
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
        help="saliency, input_x_gradient, integrated_gradients, smoothgrad, occlusion (repeat or comma-separate)",
    )
    e.add_argument("--steps", type=int, default=32, help="IG steps of the first pass")
    e.add_argument("--max-steps", type=int, default=None, help="IG cap for adaptive refinement")
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
    e.set_defaults(run=_explain)
    return parser


if __name__ == "__main__":
    sys.exit(main())
