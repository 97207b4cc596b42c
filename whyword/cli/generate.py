"""`whyword generate TEXT`: generation with per-step transition scores, and optionally the
steps × tokens attribution matrix (`--method`)."""

from __future__ import annotations

import json

from whyword.cli.common import compact, methods_of, model_of, pipe_table
from whyword.results.methods import METHODS


def add_command(sub, base) -> None:
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
    g.set_defaults(run=run)


def run(args) -> str:
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
        model=model_of(args),
    )
    methods = methods_of(args)
    matrix = gen.attribute(methods, model=model_of(args)) if methods else None
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
        pipe_table(head, rows),
        "",
        f"note: {gen.scores_from}",
    ]
    if matrix is not None:
        lines += matrix_tables(matrix)
    return "\n".join(lines)


def matrix_tables(matrix) -> list[str]:
    """One steps × tokens table per method; · marks a token the step could not see."""
    lines = []
    for m in matrix.methods:
        head = ["step", "token"] + [t.label for t in matrix.tokens]
        rows = [
            [s + 1, matrix.tokens[out.position + 1].label] + [compact(v) for v in row]
            for s, (out, row) in enumerate(zip(matrix.outputs, m.scores, strict=True))
        ]
        lines += ["", f"{m.method} ({m.seconds:.2f} s): rows = generated steps, columns = "]
        lines[-1] += "prompt + generated tokens, · = not in context"
        lines += [pipe_table(head, rows)]
    return lines + ["", *(f"note: {n}" for n in matrix.notes)]
