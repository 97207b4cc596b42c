"""`whyword run` killed mid-run (SIGKILL, as a crash or an out-of-memory kill would) and run
again with --resume: the finished file holds every row once, equal to an uninterrupted run's
within another process's rounding. (That a resumed run computes no row twice is counted in
tests/unit/tasks/test_dataset.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tolerances import OTHER_PROCESS, assert_close

ROOT = Path(__file__).resolve().parents[2]
ROWS = 60
METHODS = "saliency,occlusion"


def command(tiny: str, prompts: Path, out: Path, *extra: str) -> list[str]:
    run = ["run", str(prompts), "--model", tiny, "--out", str(out), "--method", METHODS]
    return [sys.executable, "-m", "whyword", *run, "--batch-size", "2", "--no-faithfulness", *extra]


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_uninterrupted_file(tiny_paths, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    prompts = tmp_path / "prompts.txt"
    text = "the cat sat on a mat and then it ran off to see the dog"
    prompts.write_text("\n".join(" ".join(text.split(" ")[: 3 + i % 10]) for i in range(ROWS)) + "\n")
    part = tmp_path / "part.jsonl"
    proc = subprocess.Popen(command(tiny_paths["gpt2"], prompts, part, "--quiet"), env=env)
    deadline = time.monotonic() + 120
    while not (part.exists() and len(part.read_text().splitlines()) >= 4):
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    written = {r["id"] for r in records(part)}
    assert 0 < len(written) < ROWS
    resumed = subprocess.run(
        command(tiny_paths["gpt2"], prompts, part, "--resume"), env=env, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    assert "failed: 0" in resumed.stdout
    whole = tmp_path / "whole.jsonl"
    subprocess.run(command(tiny_paths["gpt2"], prompts, whole, "--quiet"), env=env, check=True)
    got, want = records(part), records(whole)
    assert [(r["id"], r["method"]) for r in got] == [(r["id"], r["method"]) for r in want]
    assert len(got) == 2 * ROWS and all(r["status"] == "ok" for r in got)
    for a, b in zip(got, want, strict=True):
        assert a["tokens"] == b["tokens"] and a["target"] == b["target"]
        assert_close(a["scores"], b["scores"], OTHER_PROCESS, f"{a['id']} {a['method']}")
