"""The `whyword` command (also `python -m whyword`): `predict`, `explain --target WORD`,
`positions`, `generate`, `app` (the web page) and `--version`."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

from whyword._version import __version__
from whyword.errors import WhyWordError
from whyword.results.methods import METHODS
from whyword.runtime.options import PRECISIONS, ExplainOptions


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
    from whyword.engine.predict import predict

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
    from whyword.runtime.options import DEFAULT_METHODS
    from whyword.tasks.explain import explain

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
        args.text, target=target, foil=args.foil, methods=methods, model=_model(args), **options
    )
    if args.json:
        return explanation.to_json(indent=2)
    return _explanation_table(explanation, args.level)


def _model(args):
    """The model by name, on `--device` when one is given (else auto: CUDA, MPS, CPU)."""
    if args.device is None:
        return args.model
    from whyword.models.load import load_model

    return load_model(args.model, device=args.device)


def _app(args) -> None:
    """Serve the page until Ctrl-C; `--model` is the model it starts with (and offers first)."""
    if args.model:
        from whyword.models.limits import model_choices
        from whyword.runtime import settings

        settings.MODELS.put(tuple(dict.fromkeys([args.model, *model_choices()])))
    from whyword.ui import build_demo

    demo = build_demo()
    demo.launch(server_name=args.host, server_port=args.port, share=args.share)


def _explanation_table(e, level: str = "token") -> str:
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


def _positions(args) -> str:
    from whyword.tasks.positions import positions

    frame = positions(args.text, k=args.k, model=_model(args))
    if args.json:
        return json.dumps(
            {**frame.attrs, "rows": frame.to_dict(orient="records")}, ensure_ascii=False
        )
    rows = [
        [
            r.position,
            r.token_id,
            r.token,
            _p(r.probability),
            r.rank,
            f"{r.surprisal:.2f}",
            f"{r.entropy:.2f}",
            " · ".join(f"{t} {_p(p)}" for t, p in zip(r.top_k, r.top_k_probabilities, strict=True)),
        ]
        for r in frame.itertuples()
    ]
    head = ["position", "token id", "token", "probability", "rank", "surprisal (bits)"]
    head += ["entropy (bits)", f"top-{args.k}"]
    note = f"model: {frame.attrs['model']}   scoring: {frame.attrs['scoring'].replace('_', '-')}"
    if frame.empty:
        return note + "\nno position to score: the text is a single token."
    perplexity = 2 ** frame.surprisal.mean()
    return f"{note}\n\n{_pipe_table(head, rows)}\n\nperplexity: {perplexity:.2f}"


def _generate(args) -> str:
    from whyword.tasks.generate import generate

    gen = generate(
        args.text,
        max_new_tokens=args.max_new_tokens,
        strategy=args.strategy,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        num_beams=args.num_beams,
        seed=args.seed,
        model=_model(args),
    )
    methods = [m for group in args.method for m in group.split(",") if m]
    matrix = gen.attribute(methods, model=_model(args)) if methods else None
    if args.json:
        data = gen.to_dict()
        if matrix is not None:
            data["attribution"] = matrix.to_dict()
        return json.dumps(data, ensure_ascii=False, indent=2)
    warped = args.strategy == "sample"  # greedy and beam search apply no warping
    head = ["step", "token id", "token", "log-prob", "probability", "rank", "entropy"]
    head += ["raw log-prob", "raw probability", "raw rank", "raw entropy"] if warped else []
    rows = []
    for s in gen.steps:
        row = [s.step, s.token.id, s.token.label, f"{s.log_prob:.4f}", f"{s.probability:.2%}"]
        row += [s.rank, f"{s.entropy:.2f}"]
        if warped:
            row += [f"{s.raw_log_prob:.4f}", f"{s.raw_probability:.2%}", s.raw_rank]
            row += [f"{s.raw_entropy:.2f}"]
        rows.append(row)
    lines = [
        f"model: {gen.model}   strategy: {args.strategy}   stopped: {gen.stopped}",
        f"generated: {gen.text!r}",
        "",
        _pipe_table(head, rows),
        "",
        f"note: {gen.scores_from}",
    ]
    if matrix is not None:
        lines += _matrix_tables(matrix)
    return "\n".join(lines)


def _matrix_tables(matrix) -> list[str]:
    """One steps × tokens table per method; · marks a token the step could not see."""
    lines = []
    for m in matrix.methods:
        head = ["step", "token"] + [t.label for t in matrix.tokens]
        rows = [
            [s + 1, matrix.tokens[out.position + 1].label] + [_compact(v) for v in row]
            for s, (out, row) in enumerate(zip(matrix.outputs, m.scores, strict=True))
        ]
        lines += ["", f"{m.method} ({m.seconds:.2f} s): rows = generated steps, columns = "]
        lines[-1] += "prompt + generated tokens, · = not in context"
        lines += [_pipe_table(head, rows)]
    return lines + ["", *(f"note: {n}" for n in matrix.notes)]


def _compact(value: float) -> str:
    """A score in few characters: .123, -.045, 1.23, 2e-05; · for not in context."""
    if math.isnan(value):
        return "·"
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.0e}"
    if abs(value) < 1:
        return f"{value:.3f}".replace("0.", ".", 1)
    return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"


def _p(probability: float) -> str:
    """A probability that stays readable when tiny: 0.7135, 3.2e-05."""
    return f"{probability:.4f}" if probability >= 1e-3 else f"{probability:.1e}"


def _pipe_table(head: list[str], rows: list[list]) -> str:
    """A Markdown-style table, columns padded to their widest cell."""
    cells = [[str(c) for c in row] for row in [head, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(head))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="whyword", description="Why does a language model predict that word?"
    )
    parser.add_argument("--version", action="version", version=f"whyword {__version__}")
    sub = parser.add_subparsers(
        required=True, metavar="{predict,explain,positions,generate,evidence,app}"
    )
    base = argparse.ArgumentParser(add_help=False)  # what every subcommand takes
    base.add_argument(
        "text", help='the prompt; use [MASK] for a gap, e.g. "The capital of France is [MASK]."'
    )
    base.add_argument(
        "--model",
        default=None,
        help="Hub id or local folder (default: embedded SmolLM2-135M-Instruct)",
    )
    base.add_argument(
        "--device",
        default=None,
        help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps (default: WHYWORD_DEVICE or auto)",
    )
    base.add_argument("--json", action="store_true", help="machine-readable output")
    common = argparse.ArgumentParser(add_help=False, parents=[base])
    common.add_argument("-k", type=int, default=10, help="how many predictions to show")
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
    e.set_defaults(run=_explain)
    _add_sequence_commands(sub, base)
    from whyword.cli.evidence import add_command as add_evidence

    add_evidence(sub, base)
    from whyword.serve.command import add_command  # `whyword serve` (Ray Serve, issue 14)

    add_command(sub)
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


def _add_sequence_commands(sub, base: argparse.ArgumentParser) -> None:
    p = sub.add_parser("positions", parents=[base], help="what the model expected at each position")
    p.add_argument("-k", type=int, default=5, help="top predictions shown per position")
    p.set_defaults(run=_positions)
    g = sub.add_parser("generate", parents=[base], help="generate with per-step transition scores")
    g.add_argument("-n", "--max-new-tokens", type=int, default=20, help="tokens to generate")
    g.add_argument("--strategy", default="greedy", help="greedy, sample or beam")
    g.add_argument("--temperature", type=float, default=1.0, help="sample: logits / temperature")
    g.add_argument("--top-k", type=int, default=None, help="sample: keep the k likeliest tokens")
    g.add_argument("--top-p", type=float, default=None, help="sample: keep this much mass")
    g.add_argument("--num-beams", type=int, default=4, help="beam: hypotheses kept per step")
    g.add_argument("--seed", type=int, default=0, help="sample: the same seed, the same text")
    g.add_argument(
        "--method",
        action="append",
        default=[],
        help="also attribute every generated token to the tokens before it (steps × tokens "
        f"matrix): {', '.join(METHODS)} (repeat or comma-separate)",
    )
    g.set_defaults(run=_generate)


if __name__ == "__main__":
    sys.exit(main())
