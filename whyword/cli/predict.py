"""`whyword predict TEXT`: the top-k predictions."""

from __future__ import annotations

import json

from whyword.cli.common import model_of


def add_command(sub, common) -> None:
    p = sub.add_parser("predict", parents=[common], help="top-k predictions")
    p.set_defaults(run=run)


def run(args) -> str:
    from whyword.engine.predict import predict

    frame = predict(args.text, k=args.k, model=model_of(args))
    if args.json:
        return json.dumps(
            {"rows": frame.to_dict(orient="records"), "notes": frame.attrs.get("notes", [])},
            ensure_ascii=False,
        )
    notes = "\n".join(frame.attrs.get("notes", []))
    table = frame.to_string(index=False, formatters={"probability": "{:.6f}".format})
    return table + (f"\n\n{notes}" if notes else "")
