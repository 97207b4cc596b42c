"""`whyword evidence`: REALM's marginal over retrieved passages and what each passage did."""

from __future__ import annotations

import argparse


def add_command(sub, base: argparse.ArgumentParser) -> None:
    """Register `whyword evidence` on the CLI's subparsers (`base`: text, --model, --json)."""
    from whyword.evidence import DEFAULT_K, DEFAULT_TEMPERATURE

    e = sub.add_parser(
        "evidence",
        parents=[base],
        help="retrieve passages, marginalise the answer over them (REALM), attribute",
    )
    e.add_argument("--passages", default=None, help="a .txt (one passage per paragraph) or .jsonl")
    e.add_argument("--corpus", default=None, help="a shipped corpus instead: example")
    e.add_argument("-k", type=int, default=DEFAULT_K, help="passages retrieved (top-k)")
    e.add_argument("--target", default=None, help="the answer explained (default: the top-1)")
    e.add_argument(
        "--temperature",
        type=float,
        default=DEFAULT_TEMPERATURE,
        help="τ of p(z|x) = softmax(relevance / τ)",
    )
    e.add_argument("--retriever", default=None, help="sentence encoder: Hub id or folder")
    e.add_argument(
        "--method",
        action="append",
        default=[],
        help="reader-path methods (default input_x_gradient; 'none' skips the reader path)",
    )
    e.add_argument("--ablations", type=int, default=64, help="random subsets for the surrogate")
    e.set_defaults(run=run)


def run(args) -> str:
    from whyword.errors import InputError
    from whyword.evidence import explain_with_evidence
    from whyword.evidence.corpus import read_file
    from whyword.evidence.pipeline import DEFAULT_METHODS

    if (args.passages is None) == (args.corpus is None):
        raise InputError("Give --passages FILE or --corpus example (one of them).")
    methods = [m.strip() for raw in args.method for m in raw.split(",") if m.strip()]
    if methods == ["none"]:
        methods = []
    result = explain_with_evidence(
        args.text,
        passages=read_file(args.passages) if args.passages else None,
        corpus=args.corpus,
        k=args.k,
        target=args.target,
        methods=tuple(methods) if args.method else DEFAULT_METHODS,
        model=_model(args.model, args.device),
        retriever=args.retriever,
        temperature=args.temperature,
        ablations=args.ablations,
    )
    return result.to_json() if args.json else table(result)


def _model(name, device):
    """The model by name, on `--device` when one is given (as the other commands do)."""
    if device is None:
        return name
    from whyword.models.load import load_model

    return load_model(name, device=device)


def table(r) -> str:
    frame = r.passages[
        [
            "rank",
            "retrieval_probability",
            "reader_probability",
            "share",
            "leave_one_out",
            "relevance_gradient",
            "surrogate_weight",
            "text",
        ]
    ].copy()
    frame["text"] = frame["text"].str.slice(0, 60)
    frame.columns = [
        "rank",
        "p(z|x)",
        "p(y|x,z)",
        "share",
        "LOO Δlog p",
        "∂log p/∂s",
        "surrogate",
        "passage",
    ]
    s = r.surrogate
    agreement = "n/a" if s.rank_agreement is None else f"{s.rank_agreement:+.2f}"
    lines = [
        f"model: {r.model}   retriever: {r.retriever}   corpus: {r.corpus} ({r.corpus_size} passages)",
        f"answer {r.target.token}: p(y|x) = {r.target.probability:.4f} with evidence (top-{r.k}, "
        f"τ = {r.temperature:g}), {r.target_probability_no_evidence:.4f} without",
        "",
        frame.to_string(index=False, float_format=lambda v: f"{v:.4f}"),
        "",
        f"surrogate: {s.ablations} ablations (seed {s.seed}), R² {s.r2:.3f}, rank agreement with "
        f"leave-one-out {agreement}, {1000 * s.seconds:.1f} ms, {s.forward_passes} forward passes",
        "",
        "marginal p(y|x)            no evidence",
    ]
    for a, b in zip(r.marginal_top[:5], r.no_evidence_top[:5], strict=False):
        lines.append(f"  {a.token:<14} {a.probability:.4f}    {b.token:<14} {b.probability:.4f}")
    timing = ", ".join(f"{k} {v:.2f} s" for k, v in r.timings.items())
    return "\n".join([*lines, "", f"time: {timing}", *r.notes])
