"""`whyword layers TEXT [--target WORD] [--foil WORD]`: what each layer predicts (logit lens)."""

from __future__ import annotations

import json

from whyword.cli.common import model_of, pipe_table, probability


def add_command(sub, base) -> None:
    p = sub.add_parser("layers", parents=[base], help="what each layer predicts (logit lens)")
    p.add_argument("--target", default=None, help="token or word to follow (default: top-1)")
    p.add_argument("--foil", default=None, help="a second word to follow beside it")
    p.add_argument("--position", type=int, default=None, help="token to read (default: last)")
    p.add_argument("-k", type=int, default=5, help="top tokens shown per layer")
    p.set_defaults(run=run)


def run(args) -> str:
    from whyword.tasks.layers import layers

    lens = layers(args.text, args.target, args.foil, args.position, k=args.k, model=model_of(args))
    if args.json:
        return json.dumps(lens.to_dict(), ensure_ascii=False)
    head = ["layer", f"p({lens.target!r})", "rank"]
    head += [f"p({lens.foil!r})", "rank"] if lens.foil is not None else []
    head += [f"top-{args.k}"]
    rows = []
    for r in lens.rows:
        row = [r.label, probability(r.target_probability), r.target_rank]
        if lens.foil is not None:
            row += [probability(r.foil_probability), r.foil_rank]
        rows.append(row + [" · ".join(c.label for c in r.top)])
    entered = lens.first_layer_in_top(5)
    where = (
        f"{lens.target!r} first reaches the top 5 at {lens.rows[entered].label}"
        if entered is not None
        else f"{lens.target!r} never reaches the top 5"
    )
    token = lens.tokens[lens.position].label
    lines = [
        f"model: {lens.model}   read at token {lens.position} ({token}); {where}",
        "",
        pipe_table(head, rows),
        "",
        f"note: the last row is the model's own prediction (largest logit difference "
        f"{lens.max_error:.1e}); each row is that layer's residual stream through the final "
        "norm and unembedding.",
    ]
    return "\n".join(lines + [f"note: {n}" for n in lens.notes])
