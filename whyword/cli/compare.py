"""`whyword compare TEXT --model A --model B [--target WORD] [--foil WORD] [--method ...]`:
two models' explanations of the same text and target word, and how far they agree."""

from __future__ import annotations

import math

from whyword.cli.common import methods_of, probability
from whyword.results.methods import METHODS


def add_command(sub) -> None:
    """Its own options: `--model` is repeated here (twice), so it does not take the shared
    single `--model` of the other sub-commands."""
    c = sub.add_parser(
        "compare", help="explain one text with two models and measure how far they agree"
    )
    c.add_argument("text", help="the prompt; use [MASK] for a gap (two masked models)")
    c.add_argument(
        "--model",
        action="append",
        default=[],
        required=True,
        help="Hub id or local folder; give it twice: --model A --model B",
    )
    c.add_argument(
        "--device",
        default=None,
        help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps (default: WHYWORD_DEVICE or auto)",
    )
    c.add_argument("--target", default=None, help="a word (default: model A's top-1)")
    c.add_argument("--foil", default=None, help="contrast: log p(target) - log p(foil)")
    c.add_argument(
        "--method",
        action="append",
        default=[],
        help=f"{', '.join(METHODS)} (repeat or comma-separate)",
    )
    c.add_argument("-k", type=int, default=5, help="how many predictions to show per model")
    c.add_argument("--json", action="store_true", help="machine-readable output")
    c.set_defaults(run=run)


def run(args) -> str:
    import json

    from whyword.errors import InputError
    from whyword.runtime.options import DEFAULT_METHODS
    from whyword.tasks.compare import compare

    if len(args.model) != 2:
        raise InputError(f"Give two models: --model A --model B (got {len(args.model)}).")
    models = list(args.model)
    if args.device is not None:
        from whyword.models.load import load_model

        models = [load_model(m, device=args.device) for m in models]
    result = compare(
        args.text,
        models=models,
        target=args.target,
        foil=args.foil,
        methods=methods_of(args) or DEFAULT_METHODS,
        k=args.k,
    )
    if args.json:
        return json.dumps(result.to_dict(), ensure_ascii=False, indent=2)
    return comparison_table(result, args.k)


def comparison_table(c, k: int = 5) -> str:
    lines = [f"text: {c.text!r}"]
    for side, letter in ((0, "A"), (1, "B")):
        e = c.explanations[side]
        rank = c.target_rank(side)
        top = ", ".join(f"{t.label} {probability(t.probability)}" for t in c.top(side)[:k])
        lines += [
            f"{letter}: {e.model} — target {e.target!r} p={probability(c.target_probability(side))}"
            f" rank {rank if rank is not None else f'>{len(c.top(side))}'}; F = {e.formula} = {e.value:+.4f}",
            f"   top: {top}",
        ]
    unit = "tokens" if c.level == "token" else "words"
    lines.append(f"agreement (Spearman ρ over {unit} both score):")
    for m in c.agreements:
        rho = "n/a" if math.isnan(m.rho) else f"{m.rho:+.3f}"
        lines.append(f"  {m.method}: {rho} ({len(m.compared)} {unit})")
    frame = c.to_dataframe().drop(columns=["start", "end"])
    lines += ["", frame.to_string(index=False, float_format=lambda v: f"{v:+.4f}")]
    lines += [f"note: {n}" for n in c.notes]
    return "\n".join(lines)
