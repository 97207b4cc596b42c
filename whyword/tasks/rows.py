"""A dataset run's input: `.txt` (one prompt a line), `.jsonl` / `.csv` (a `text` column,
optional `target`, `foil`, `id`), a Hugging Face `datasets` dataset (`hf:NAME[:SPLIT[:N]]`,
or a folder written by `Dataset.save_to_disk`), or rows given in Python.

A row that cannot be explained as given (an empty text, no `text` column, a line that is not
JSON, a repeated id) is still a row: it carries the one sentence saying why, and the run
records it as failed instead of stopping. Nothing in a text is changed: a `.txt` line loses
only its line ending. Ids default to the row's number (0-based), as text.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from whyword.errors import InputError
from whyword.extras import require
from whyword.results.dataset import DatasetRow

COLUMNS = ("text", "target", "foil", "id")
SUFFIXES = (".txt", ".jsonl", ".csv")


def read_rows(source: str | Path) -> list[DatasetRow]:
    """The rows of a file, a saved `datasets` folder or `hf:NAME[:SPLIT[:N]]`."""
    name = str(source)
    if name.startswith("hf:"):
        return rows_of(_hub_dataset(name))
    path = Path(name)
    if path.is_dir():
        datasets = require("data", "datasets")
        return rows_of(datasets.load_from_disk(str(path)))
    if not path.is_file():
        raise InputError(f"{name} is not a file, a saved dataset folder or hf:NAME.")
    suffix = path.suffix.lower()
    if suffix == ".txt":
        with path.open(encoding="utf-8", newline="") as f:
            lines = f.read().splitlines()
        return rows_of({"text": line} for line in lines)
    if suffix == ".jsonl":
        return rows_of(_json_lines(path))
    if suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as f:
            return rows_of(list(csv.DictReader(f)))
    raise InputError(f"{path.name}: give a {', '.join(SUFFIXES)} file or a saved dataset folder.")


def rows_of(records: Iterable[DatasetRow | Mapping[str, Any] | str]) -> list[DatasetRow]:
    """Rows from `DatasetRow`s, plain strings or mappings with a `text` column (optional
    target, foil, id). A repeated id makes the later row a failed one."""
    rows: list[DatasetRow] = []
    seen: set[str] = set()
    for number, record in enumerate(records):
        if isinstance(record, DatasetRow):
            row = record
        else:
            row = _row(number, {"text": record} if isinstance(record, str) else record)
        if row.id in seen:
            row = DatasetRow(
                f"{row.id}#{number}", row.text, row.target, row.foil,
                f"Row {number} repeats the id {row.id!r}; ids must be unique to resume a run.",
            )  # fmt: skip
        seen.add(row.id)
        rows.append(row)
    return rows


def _row(number: int, record: Mapping[str, Any]) -> DatasetRow:
    if isinstance(record, _Unreadable):
        return DatasetRow(str(number), "", problem=record.reason)
    raw_id = record.get("id")
    row_id = str(number) if raw_id is None or str(raw_id) == "" else str(raw_id)
    target, foil = _optional(record.get("target")), _optional(record.get("foil"))
    if "text" not in record:
        have = ", ".join(map(str, record)) or "none"
        problem = f"Row {number} has no text column (columns: {have})."
        return DatasetRow(row_id, "", target, foil, problem)
    text = record["text"]
    if not isinstance(text, str):
        problem = f"Row {number}'s text is {type(text).__name__}, not a string."
        return DatasetRow(row_id, "", target, foil, problem)
    problem = f"Row {number}'s text is empty." if not text.strip() else None
    return DatasetRow(row_id, text, target, foil, problem)


def _optional(value: Any) -> str | None:
    """A target or foil cell: absent, None and "" mean none (the top-1 / no contrast)."""
    return None if value is None or value == "" else str(value)


class _Unreadable(dict):
    """A line that is not a JSON object: a row with its reason."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def _json_lines(path: Path) -> Iterator[Mapping[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                yield _Unreadable(f"Line {line_no} is not JSON ({error.msg}).")
                continue
            if not isinstance(record, dict):
                yield _Unreadable(f"Line {line_no} is not a JSON object.")
                continue
            yield record


def _hub_dataset(spec: str):
    """`hf:NAME[:SPLIT[:N]]` → the first N rows of that split (default: train, all rows).
    A name may hold a config as NAME/CONFIG only where the Hub path has no slash of its own;
    use a saved folder for anything else."""
    parts = spec[3:].split(":")
    if not parts[0] or len(parts) > 3:
        raise InputError(f"{spec!r}: write hf:NAME, hf:NAME:SPLIT or hf:NAME:SPLIT:N.")
    name, split = parts[0], parts[1] if len(parts) > 1 and parts[1] else "train"
    count = None
    if len(parts) == 3:
        if not parts[2].isdigit() or int(parts[2]) < 1:
            raise InputError(f"{spec!r}: N must be a positive whole number of rows.")
        count = int(parts[2])
    datasets = require("data", "datasets")
    chosen = f"{split}[:{count}]" if count else split
    try:
        return datasets.load_dataset(name, split=chosen)
    except Exception as error:  # the Hub's and datasets' many failures: one sentence
        raise InputError(
            f"Could not load the dataset {name!r} ({type(error).__name__})."
        ) from error
