"""`whyword flip TEXT [--target WORD] [--foil WORD] [--kind hotflip|reduce|flip]`: what would
change the answer — verified HotFlip edits, input reduction, or the fewest edits that flip it."""

from __future__ import annotations

import json

from whyword.cli.common import model_of, pipe_table, probability


def add_command(sub, base) -> None:
    p = sub.add_parser("flip", parents=[base], help="what edit would change the answer")
    p.add_argument("--target", default=None, help="the word edits work against (default: top-1)")
    p.add_argument("--foil", default=None, help="make this word beat the target instead")
    p.add_argument(
        "--kind",
        default="hotflip",
        choices=("hotflip", "reduce", "flip"),
        help="hotflip: best single-token edits; reduce: input reduction; flip: fewest edits",
    )
    p.add_argument("--positions", type=int, default=5, help="positions HotFlip edits")
    p.add_argument("--per-position", type=int, default=20, help="candidates per position")
    p.add_argument("--method", default="input_x_gradient", help="reduce: the token scores")
    p.add_argument("--budget", type=int, default=300, help="flip: edited inputs it may run")
    p.set_defaults(run=run)


def run(args) -> str:
    from whyword.tasks.counterfactuals import counterfactuals

    result = counterfactuals(
        args.text,
        target=args.target,
        foil=args.foil,
        kind=args.kind,
        model=model_of(args),
        positions=args.positions,
        per_position=args.per_position,
        method=args.method,
        budget=args.budget,
    )
    if args.json:
        return json.dumps(result.to_dict(), ensure_ascii=False)
    s = result.subject
    vs = f" rather than {s.foil}" if s.foil is not None else ""
    head = [
        f"model: {s.model}   target {s.target}{vs}   F = {s.objective}",
        f"now: p({s.target}) = {probability(_p(s.original.target_log_prob))}, "
        f"top-1 {s.original.top1}",
        "",
    ]
    return "\n".join(head + _body(args.kind, result))


def _body(kind: str, result) -> list[str]:
    if kind == "reduce":
        rows = [
            [
                s.removed_label,
                f"{s.score:.3g}",
                len(s.kept),
                probability(_p(s.reading.target_log_prob)),
                s.text,
            ]
            for s in result.steps
        ]
        table = pipe_table(["removed", "score", "kept", "p(target)", "text"], rows) if rows else ""
        n = len(result.subject.tokens)
        return [
            f"input reduction by {result.method} (scores recomputed after each removal): "
            f"{len(result.kept)} of {n} tokens kept",
            table,
            f"stopped: {result.stopped}",
            f"shortest input: {result.text!r}",
        ]
    if kind == "flip":
        lines = [
            result.message,
            f"edited inputs run: {result.forwards} of a budget of {result.budget}",
        ]
        if result.found is not None:
            lines += ["", _table([result.found], result.subject.foil is not None)]
        return lines + [f"note: {n}" for n in result.notes]
    lines = [
        f"HotFlip over {result.vocabulary_size} candidates ({result.vocabulary}); "
        f"{result.forwards} edits verified",
        "",
        _table(result.edits, result.subject.foil is not None),
    ]
    return lines + [f"note: {n}" for n in result.notes]


def _table(edits, foil: bool) -> str:
    head = ["edit", "estimate ΔF", "Δ log p(target)"] + (["Δ(target − foil)"] if foil else [])
    head += ["new top-1", "flipped", "text"]
    rows = []
    for c in edits:
        row = [" · ".join(f"{s.position}:{s.old}→{s.new}" for s in c.substitutions)]
        row += [f"{c.estimate:+.3f}", f"{c.delta_log_prob:+.3f}"]
        row += [f"{c.delta_contrast:+.3f}"] if foil else []
        rows.append(row + [c.reading.top1, "yes" if c.flipped else "", c.text])
    return pipe_table(head, rows)


def _p(log_prob: float) -> float:
    import math

    return math.exp(log_prob)
