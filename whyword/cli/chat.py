"""`whyword chat --system "…" --user "…" [--reply "…"] [--span 3:9 | --span PHRASE]`: the
assistant's reply (generated or typed), and which messages, sentences and tokens made a
span of it (`--method`)."""

from __future__ import annotations

import json
import math
import re

from whyword.cli.common import compact, methods_of, model_of, pipe_table
from whyword.results.methods import METHODS

TOP_TOKENS = 8  # tokens listed per method, largest |score| first


def add_command(sub, shared) -> None:
    c = sub.add_parser(
        "chat", parents=[shared], help="answer as a chat model, and explain a span of the reply"
    )
    c.add_argument("--system", default=None, help="the system message (default: none)")
    c.add_argument("--user", required=True, help="the user's message")
    c.add_argument("--reply", default=None, help="the assistant's reply as typed (default: generate)")
    c.add_argument(
        "--span",
        default=None,
        help="what to explain: reply tokens FIRST:END (0-based, END excluded) or a phrase of "
        "the reply (default: the whole answer)",
    )
    c.add_argument("--foil", default=None, help="an alternative read from the span's start")
    c.add_argument("--mean", action="store_true", help="mean log p per token instead of Σ")
    c.add_argument("-n", "--max-new-tokens", type=int, default=40, help="tokens to generate")
    c.add_argument("--strategy", default="greedy", help="greedy, sample or beam")
    c.add_argument("--seed", type=int, default=0, help="sample: the same seed, the same reply")
    c.add_argument(
        "--method",
        action="append",
        default=[],
        help=f"explain the span with: {', '.join(METHODS)} (repeat or comma-separate; "
        "default saliency)",
    )
    c.add_argument(
        "--level", default="message", choices=("message", "sentence"), help="segment scores"
    )
    c.set_defaults(run=run)


def run(args) -> str:
    from whyword.tasks.chat import chat

    messages = [{"role": "system", "content": args.system}] if args.system is not None else []
    messages.append({"role": "user", "content": args.user})
    result = chat(
        messages,
        model=model_of(args),
        max_new_tokens=args.max_new_tokens,
        strategy=args.strategy,
        seed=args.seed,
        reply=args.reply,
    )
    span = _span(args.span)
    methods = methods_of(args) or ["saliency"]
    explained = result.explain(
        span=span, foil=args.foil, methods=methods, mean=args.mean, model=model_of(args)
    )
    if args.json:
        return json.dumps(explained.to_dict(), ensure_ascii=False, indent=2)
    out = explained.matrix.outputs[0]
    lines = [
        f"model: {result.model}   reply {'typed' if args.reply is not None else 'generated'}",
        f"reply: {result.reply!r}",
        f"span: tokens {explained.start - result.prompt_length}:"
        f"{explained.end - result.prompt_length} of the reply = {explained.span_text!r}"
        + (f" vs {out.foil!r}" if out.foil else ""),
        f"F = {out.formula} = {out.value:.4f}",
    ]
    for m in explained.matrix.methods:
        units = (
            explained.messages(m.method)
            if args.level == "message"
            else explained.sentences(m.method)
        )
        rows = [[u.label, u.role, compact(u.score)] for u in units]
        lines += ["", f"{m.method} ({m.seconds:.2f} s), per {args.level}:"]
        lines += [pipe_table([args.level, "role", "score"], rows)]
        lines += ["", pipe_table(["token", "role", "score"], _top(result, m.scores[0]))]
    return "\n".join(lines + ["", f"note: {explained.note}"])


def _span(text: str | None):
    """"3:9" → reply tokens (3, 9); anything else is a phrase of the reply."""
    if text is None:
        return None
    found = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", text)
    return (int(found[1]), int(found[2])) if found else text


def _top(result, scores) -> list[list]:
    """The tokens with the largest |score|, template tokens and out-of-context ones left out."""
    found = [
        (abs(s), k)
        for k, s in enumerate(scores)
        if not math.isnan(s) and result.roles[k] != "template"
    ]
    return [
        [f"{k}:{result.tokens[k].label}", result.roles[k], compact(scores[k])]
        for _, k in sorted(found, reverse=True)[:TOP_TOKENS]
    ]
