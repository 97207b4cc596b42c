"""`whyword layers TEXT [--target WORD] [--foil WORD]`: what each layer predicts (logit lens),
and which heads and MLPs wrote the target (direct logit attribution, checked by ablation)."""

from __future__ import annotations

import json

from whyword.cli.common import compact, model_of, pipe_table, probability


def add_command(sub, base) -> None:
    p = sub.add_parser("layers", parents=[base], help="what each layer predicts (logit lens)")
    p.add_argument("--target", default=None, help="token or word to follow (default: top-1)")
    p.add_argument("--foil", default=None, help="a second word to follow beside it")
    p.add_argument("--position", type=int, default=None, help="token to read (default: last)")
    p.add_argument("-k", type=int, default=5, help="top tokens shown per layer")
    p.add_argument("--top", type=int, default=10, help="components listed (by |DLA|)")
    p.add_argument(
        "--check", type=int, default=10, help="top components ablated to check DLA (0: none)"
    )
    p.set_defaults(run=run)


def run(args) -> str:
    from whyword.tasks.layers import layers

    lens = layers(
        args.text,
        args.target,
        args.foil,
        args.position,
        k=args.k,
        model=model_of(args),
        check=args.check,
    )
    if args.json:
        from whyword._version import __version__

        return json.dumps({"whyword_version": __version__, **lens.to_dict()}, ensure_ascii=False)
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
    return "\n".join(lines + components(lens, args.top) + [f"note: {n}" for n in lens.notes])


def components(lens, top: int) -> list[str]:
    """The top components by |DLA|, their ablation effects, and how well the two agree."""
    dla = lens.components
    if dla is None or top <= 0:
        return []
    what = f"logit({lens.target!r})"
    if lens.foil is not None:
        what += f" - logit({lens.foil!r})"
    delta = "Δ(log p target - log p foil)" if lens.foil is not None else "Δ log p(target)"
    rows = []
    for c in dla.top(top):
        a = dla.ablation_of(c)
        zero = mean = "·"
        if a is not None:
            zero = compact(a.zero_difference if lens.foil is not None else a.zero_log_prob)
            mean = compact(a.mean_difference if lens.foil is not None else a.mean_log_prob)
        rows.append([c.label, compact(c.dla), zero, mean])
    lines = [
        "",
        f"which parts wrote {what} = {dla.real:.3f} directly (DLA, final norm's scale frozen "
        f"at its full-pass value; the shares sum to {dla.frozen_total:.3f}):",
        "",
        pipe_table(["component", "DLA", f"zeroed {delta}", "mean-ablated"], rows),
    ]
    if dla.zero_agreement is not None:
        lines += [
            "",
            f"DLA vs ablation, rank agreement over the {len(dla.ablations)} checked "
            f"(Spearman): zeroed {dla.zero_agreement:+.2f}, mean-ablated "
            f"{dla.mean_agreement:+.2f}",
        ]
    return lines
