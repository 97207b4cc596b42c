"""`python -m tests.integration.bad_input` prints the table with the answer each case gets from
the library and from the app (docs/security.md shows it)."""

from __future__ import annotations

import whyword as ww
from tests.integration.bad_input.cases import CASES, query_for, run_library
from whyword.results.explanation import Explanation


def answer(outcome_error: str | None, explanation: Explanation | None) -> str:
    if outcome_error:
        return f"message: {outcome_error}"
    assert explanation is not None
    target = explanation.target.replace("\n", "↵")
    return f"result: {explanation.mode}, {len(explanation.tokens)} tokens, target {target!r}"


def table(models: dict[str, str]) -> str:
    """A Markdown table: each case, the library's answer and the app's answer."""
    from whyword.ui import handlers

    rows = ["| case | library | app (local mode) |", "|---|---|---|"]
    for case in CASES:
        try:
            lib = answer(None, run_library(case, models))
        except ww.WhyWordError as error:
            lib = answer(str(error), None)
        outcome = handlers.run(query_for(case, models))
        app = answer(outcome.error, outcome.explanation)
        rows.append(f"| {case.name} | {_cell(lib)} | {_cell(app)} |")
    return "\n".join(rows)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")[:220]


if __name__ == "__main__":
    import os
    import tempfile
    from pathlib import Path

    from tests import tiny

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    root = Path(tempfile.mkdtemp())
    built = {name: str(build(root / name)) for name, build in tiny.BUILDERS.items()}
    built["classifier"] = str(tiny.build_classifier(root / "cls"))
    built["default"] = "default"
    print(table(built))
