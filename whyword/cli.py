"""The `whyword` command (also `python -m whyword`): `whyword predict TEXT`,
`whyword explain TEXT --target WORD`, `whyword app` (the web page) and `whyword --version`."""

from __future__ import annotations

import argparse
import json
import os
import sys

from whyword._version import __version__
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
    if out is not None:
        print(out)
    return 0


def _predict(args) -> str:
    from whyword.predict import predict

    frame = predict(args.text, k=args.k, model=args.model)
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

    methods = [m for group in args.method for m in group.split(",") if m] or [
        "saliency",
        "integrated_gradients",
    ]
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
        args.text, target=target, foil=args.foil, methods=methods, model=args.model, **options
    )
    if args.json:
        return explanation.to_json(indent=2)
    return _explanation_table(explanation)


def _app(args) -> None:
    """Serve the page until Ctrl-C; `--model` is the model it starts with (and offers first)."""
    if args.model:
        from whyword.limits import model_choices

        os.environ["WHYWORD_MODELS"] = ",".join(dict.fromkeys([args.model, *model_choices()]))
    from whyword.ui import build_demo

    demo = build_demo()
    demo.launch(server_name=args.host, server_port=args.port, share=args.share)


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
    parser.add_argument("--version", action="version", version=f"whyword {__version__}")
    sub = parser.add_subparsers(required=True, metavar="{predict,explain,app}")
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
    a = sub.add_parser(
        "app",
        aliases=["ui"],
        help='serve the web page (needs pip install "whyword[app]")',
        description="Serve the WhyWord page; Ctrl-C stops it.",
    )
    a.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: all)")
    a.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    a.add_argument("--share", action="store_true", help="also open a public gradio.live link")
    a.add_argument(
        "--model", default=None, help="model the page starts with: a Hub id or local folder"
    )
    a.set_defaults(run=_app)
    return parser


if __name__ == "__main__":
    sys.exit(main())
