"""Where a dataset run writes its records as they complete, and what it finds there on resume.

Every record is appended to a JSONL journal and flushed to disk (`os.fsync`) once its batch
is done, so a killed run loses at most the batch in flight. With `--out results.jsonl` the
journal is the results file. With `--out results.parquet` it is `results.parquet.partial.jsonl`
beside it; at the end of the run the Parquet file is written from the journal (pyarrow: the
`data` extra) and the journal removed. A resumed run reads both and skips every id in them.
A half-written last line (the process killed mid-write) is dropped on resume and its row
computed again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from whyword.errors import InputError
from whyword.extras import require
from whyword.results.dataset import COLUMNS, RowResult

FORMATS = (".jsonl", ".parquet")


class ResultStore:
    """The results file of one run: `done` (records already there) and `append`."""

    def __init__(self, out: str | Path, *, resume: bool = False, overwrite: bool = False):
        self.out = Path(out)
        self.format = self.out.suffix.lower()
        if self.format not in FORMATS:
            raise InputError(f"{self.out.name}: write results to a .jsonl or .parquet file.")
        if self.format == ".parquet":
            require("data", "pyarrow")  # before any work: the end of a long run is too late
        self.journal = (
            self.out
            if self.format == ".jsonl"
            else self.out.with_name(self.out.name + ".partial.jsonl")
        )
        exists = self.out.exists() or self.journal.exists()
        if exists and not (resume or overwrite):
            raise InputError(
                f"{self.out} already exists: pass --resume to continue it or --overwrite to replace it."
            )
        if overwrite and not resume:
            for path in {self.out, self.journal}:
                path.unlink(missing_ok=True)
        self.done: list[RowResult] = self._read() if resume else []

    def _read(self) -> list[RowResult]:
        records: list[RowResult] = []
        if self.format == ".parquet" and self.out.exists():
            table = require("data", "pyarrow.parquet").read_table(self.out)
            records += [RowResult.from_record(r) for r in table.to_pylist()]
        if self.journal.exists():
            lines = self.journal.read_text(encoding="utf-8").splitlines()
            kept = 0
            for line in lines:
                try:
                    records.append(RowResult.from_record(json.loads(line)))
                except (json.JSONDecodeError, TypeError, KeyError, AssertionError):
                    break  # the line a kill cut short: everything after it is rewritten
                kept += 1
            if kept < len(lines):
                self._truncate(lines[:kept])
        return records

    def _truncate(self, lines: list[str]) -> None:
        text = "".join(line + "\n" for line in lines)
        self.journal.write_text(text, encoding="utf-8")

    def check(self, model: str, methods: Iterable[str]) -> None:
        """A resumed file must come from the same model and methods."""
        if not self.done:
            return
        had_models = {r.model for r in self.done}
        had_methods = {r.method for r in self.done}
        if had_models != {model} or had_methods != set(methods):
            raise InputError(
                f"{self.out} holds {', '.join(sorted(had_methods))} on {', '.join(sorted(had_models))}; "
                f"resume it with the same model and methods, or write to another file."
            )

    def append(self, results: Iterable[RowResult]) -> None:
        """Write records to the journal and flush them to disk."""
        with self.journal.open("a", encoding="utf-8") as f:
            for r in results:
                f.write(_line(r))
            f.flush()
            os.fsync(f.fileno())

    def finish(self, order: dict[str, int]) -> list[RowResult]:
        """Every record of the run, the file rewritten in input order (`order`: id → row
        number; ids not in it last); Parquet written if asked for."""
        records = sorted(self._read_all(), key=lambda r: order.get(r.id, len(order)))
        if self.format == ".jsonl":
            tmp = self.out.with_name(self.out.name + ".tmp")
            tmp.write_text("".join(_line(r) for r in records), encoding="utf-8")
            os.replace(tmp, self.out)
        else:
            pa = require("data", "pyarrow")
            pq = require("data", "pyarrow.parquet")
            table = pa.Table.from_pylist([r.to_record() for r in records], schema=_schema(pa))
            tmp = self.out.with_name(self.out.name + ".tmp")
            pq.write_table(table, tmp)
            os.replace(tmp, self.out)
            self.journal.unlink(missing_ok=True)
        return records

    def _read_all(self) -> list[RowResult]:
        done, self.done = self.done, []
        try:
            return self._read()
        finally:
            self.done = done


def _line(record: RowResult) -> str:
    return json.dumps(record.to_record(), ensure_ascii=False, allow_nan=True) + "\n"


def _schema(pa):
    """The Parquet columns, typed even when a column holds only nulls (an all-failed run)."""
    text, num = pa.string(), pa.float64()
    types = {
        "tokens": pa.list_(text),
        "scores": pa.list_(num),
        **{
            c: num
            for c in ("value", "deletion", "insertion", "random_deletion", "random_insertion")
        },
    }
    return pa.schema([(c, types.get(c, text)) for c in COLUMNS])
