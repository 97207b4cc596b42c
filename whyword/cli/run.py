"""`whyword run INPUT --method ... --out results.parquet`: explain every row of a dataset with one
model load, a progress bar, results written as they complete (`--resume` continues a run), and
a summary printed and written as HTML beside the results (docs/guide/datasets.md)."""

from __future__ import annotations

import sys
from pathlib import Path

from whyword.cli.common import methods_of, model_of
from whyword.results.methods import METHODS
from whyword.runtime.options import PRECISIONS, ExplainOptions


def add_command(sub) -> None:
    r = sub.add_parser(
        "run",
        help="explain every row of a .txt / .jsonl / .csv file or a datasets dataset",
        description="Explain every row of a dataset; results are written as they complete.",
    )
    r.add_argument(
        "input",
        help="a .txt (one prompt a line), .jsonl or .csv (columns text, optional target, foil, "
        "id), a folder saved by datasets' save_to_disk, or hf:NAME[:SPLIT[:N]]",
    )
    r.add_argument(
        "--out", required=True, help="results file: .parquet (needs whyword[data]) or .jsonl"
    )
    r.add_argument(
        "--method",
        action="append",
        default=[],
        help=f"{', '.join(METHODS)} (repeat or comma-separate)",
    )
    r.add_argument(
        "--model",
        default=None,
        help="Hub id or local folder (default: embedded SmolLM2-135M-Instruct)",
    )
    r.add_argument("--device", default=None, help="auto, cpu, cuda, cuda:N or mps")
    r.add_argument(
        "--resume", action="store_true", help="continue --out, skipping ids already in it"
    )
    r.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    r.add_argument(
        "--no-faithfulness",
        dest="faithfulness",
        action="store_false",
        help="skip the deletion / insertion curves (the summary then has no areas)",
    )
    r.add_argument(
        "--batch-size", type=int, default=16, help="prompts per shared call (default 16)"
    )
    r.add_argument("--steps", type=int, default=32, help="IG steps of the first pass")
    r.add_argument(
        "--precision",
        default=ExplainOptions.precision,
        choices=list(PRECISIONS),
        help="as for explain",
    )
    r.add_argument("--report", default=None, help="summary HTML (default: OUT with .html)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(run=run)


def run(args) -> str:
    from whyword.render.dataset import summary_html, summary_text
    from whyword.results.dataset import summarize
    from whyword.runtime.options import DEFAULT_METHODS
    from whyword.tasks.dataset import explain_dataset

    results = explain_dataset(
        args.input,
        methods_of(args) or DEFAULT_METHODS,
        model_of(args),
        out=args.out,
        resume=args.resume,
        overwrite=args.overwrite,
        batch_size=args.batch_size,
        progress=not args.quiet and sys.stderr.isatty(),
        faithfulness=args.faithfulness,
        n_steps=args.steps,
        precision=args.precision,
    )
    summary = summarize(results)
    report = Path(args.report) if args.report else Path(args.out).with_suffix(".html")
    report.write_text(summary_html(summary), encoding="utf-8")
    return f"{summary_text(summary)}\n\nresults: {args.out}\nreport: {report}"
