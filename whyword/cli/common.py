"""What the sub-commands share: the model an argument names, and plain-text tables."""

from __future__ import annotations

import math


def methods_of(args) -> list[str]:
    """`--method` values, repeated or comma-separated."""
    return [m for group in args.method for m in group.split(",") if m]


def model_of(args):
    """The model by name, on `--device` when one is given (else auto: CUDA, MPS, CPU)."""
    if args.device is None:
        return args.model
    from whyword.models.load import load_model

    return load_model(args.model, device=args.device)


def compact(value: float) -> str:
    """A score in few characters: .123, -.045, 1.23, 2e-05; · for not in context."""
    if math.isnan(value):
        return "·"
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.0e}"
    if abs(value) < 1:
        return f"{value:.3f}".replace("0.", ".", 1)
    return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"


def probability(p: float) -> str:
    """A probability that stays readable when tiny: 0.7135, 3.2e-05."""
    return f"{p:.4f}" if p >= 1e-3 else f"{p:.1e}"


def pipe_table(head: list[str], rows: list[list]) -> str:
    """A Markdown-style table, columns padded to their widest cell."""
    cells = [[str(c) for c in row] for row in [head, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(head))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
