"""`whyword positions TEXT`: what the model expected at each position."""

from __future__ import annotations

import json

from whyword.cli.common import model_of, pipe_table, probability


def add_command(sub, base) -> None:
    p = sub.add_parser("positions", parents=[base], help="what the model expected at each position")
    p.add_argument("-k", type=int, default=5, help="top predictions shown per position")
    p.set_defaults(run=run)


def run(args) -> str:
    from whyword.tasks.positions import positions

    frame = positions(args.text, k=args.k, model=model_of(args))
    if args.json:
        return json.dumps(
            {**frame.attrs, "rows": frame.to_dict(orient="records")}, ensure_ascii=False
        )
    rows = [
        [
            r.position,
            r.token_id,
            r.token,
            probability(r.probability),
            r.rank,
            f"{r.surprisal:.2f}",
            f"{r.entropy:.2f}",
            " · ".join(
                f"{t} {probability(p)}" for t, p in zip(r.top_k, r.top_k_probabilities, strict=True)
            ),
        ]
        for r in frame.itertuples()
    ]
    head = ["position", "token id", "token", "probability", "rank", "surprisal (bits)"]
    head += ["entropy (bits)", f"top-{args.k}"]
    note = f"model: {frame.attrs['model']}   scoring: {frame.attrs['scoring'].replace('_', '-')}"
    if frame.empty:
        return note + "\nno position to score: the text is a single token."
    perplexity = 2 ** frame.surprisal.mean()
    return f"{note}\n\n{pipe_table(head, rows)}\n\nperplexity: {perplexity:.2f}"
