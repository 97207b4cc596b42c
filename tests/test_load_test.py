"""The load test's machinery on a tiny model: students, percentiles and the alone check."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("gradio_client")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import load_test  # noqa: E402


def test_two_students_get_what_they_get_alone(tiny_paths, capsys):
    load_test.main(["--students", "2", "--model", tiny_paths["gpt2"], "--deadline", "60"])
    out = capsys.readouterr().out
    row = out.strip().splitlines()[-1].split("|")
    requests, failures, equal = int(row[2]), int(row[7]), row[9].strip()
    assert requests == 8 and failures == 0
    checked = equal.split(";")[0]
    assert checked.split("/")[0] == checked.split("/")[1]  # every distinct answer equal alone
