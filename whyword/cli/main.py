"""The `whyword` command (also `python -m whyword`): one module per sub-command — `predict`,
`explain --target WORD`, `run` (a dataset), `compare --model A --model B`, `positions`,
`generate`, `chat`, `layers`, `flip`, `evidence`, `serve` (whyword/serve/command.py), `app` (the
web page) — and `--version`."""

from __future__ import annotations

import argparse
import os
import sys

from whyword._version import __version__
from whyword.cli import (
    app,
    chat,
    compare,
    evidence,
    explain,
    flip,
    generate,
    layers,
    positions,
    predict,
    run,
)
from whyword.errors import WhyWordError


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        out = args.run(args)
    except WhyWordError as error:
        print(f"whyword: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    if out is not None:
        print(out)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="whyword", description="Why does a language model predict that word?"
    )
    parser.add_argument("--version", action="version", version=f"whyword {__version__}")
    sub = parser.add_subparsers(
        required=True,
        metavar="{predict,explain,run,compare,positions,generate,chat,layers,flip,evidence,app}",
    )
    shared = argparse.ArgumentParser(add_help=False)  # what every subcommand takes
    shared.add_argument(
        "--model",
        default=None,
        help="Hub id or local folder (default: embedded SmolLM2-135M-Instruct)",
    )
    shared.add_argument(
        "--device",
        default=None,
        help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps (default: WHYWORD_DEVICE or auto)",
    )
    shared.add_argument("--json", action="store_true", help="machine-readable output")
    base = argparse.ArgumentParser(add_help=False, parents=[shared])  # ... and a text
    base.add_argument(
        "text", help='the prompt; use [MASK] for a gap, e.g. "The capital of France is [MASK]."'
    )
    common = argparse.ArgumentParser(add_help=False, parents=[base])
    common.add_argument("-k", type=int, default=10, help="how many predictions to show")
    predict.add_command(sub, common)
    explain.add_command(sub, common)
    run.add_command(sub)
    compare.add_command(sub)  # its own options: `--model` given twice
    positions.add_command(sub, base)
    generate.add_command(sub, base)
    chat.add_command(sub, shared)
    layers.add_command(sub, base)
    flip.add_command(sub, base)
    evidence.add_command(sub, base)
    from whyword.serve.command import add_command  # `whyword serve` (Ray Serve, issue 14)

    add_command(sub)
    app.add_command(sub)
    return parser


if __name__ == "__main__":
    sys.exit(main())
