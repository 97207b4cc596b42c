"""The load test's machinery on a tiny model: students, percentiles, rounds and the alone check."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("gradio_client")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import load_test  # noqa: E402


def test_two_students_in_two_rounds_get_what_they_get_alone(tiny_paths, capsys):
    argv = ["--students", "2", "--model", tiny_paths["gpt2"], "--deadline", "60", "--rounds", "2"]
    load_test.main(argv)
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| 2 (round")]
    assert len(rows) == 2
    for line in rows:
        row = line.split("|")
        requests, failures, equal = int(row[2]), int(row[7]), row[9].strip()
        assert requests == 8 and failures == 0
        checked = equal.split(";")[0]
        assert checked.split("/")[0] == checked.split("/")[1]  # every distinct answer equal alone
        before, after = (float(x) for x in row[10].split("→"))  # app RSS, MB
        assert before > 0 and after > 0
        app_cpu, clients_cpu = float(row[11]), float(row[12])  # CPU seconds of the round
        assert app_cpu > 0 and clients_cpu > 0


def test_each_round_gives_the_class_new_texts():
    first = {load_test.prompt(i, 0) for i in range(30)}
    second = {load_test.prompt(i, 1) for i in range(30)}
    assert load_test.TEACHER in first and load_test.TEACHER not in second
    assert not first & second  # nothing the cache holds from round 1
