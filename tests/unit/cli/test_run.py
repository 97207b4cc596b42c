"""`whyword run` end to end on a tiny model: a file of prompts in, a results file, an HTML
report and a printed summary out; --resume continues; failures are one line, exit code 2."""

from __future__ import annotations

import json

import pytest

from whyword.cli import main as cli

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_run_writes_results_report_and_summary(capsys, tiny_paths, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("the cat sat on the\n\nI plan to go\n", encoding="utf-8")
    out = tmp_path / "results.jsonl"
    argv = ["run", str(prompts), "--model", tiny_paths["gpt2"], "--out", str(out)]
    code = cli.main([*argv, "--method", "saliency,occlusion", "--quiet"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["method"], r["status"]) for r in records] == [
        ("0", "saliency", "ok"), ("0", "occlusion", "ok"),
        ("1", "saliency", "failed"), ("1", "occlusion", "failed"),
        ("2", "saliency", "ok"), ("2", "occlusion", "ok"),
    ]  # fmt: skip
    assert all(r["deletion"] is not None for r in records if r["status"] == "ok")  # on by default
    assert (
        "1: Row 1's text is empty." in printed.out and "rows: 3   ok: 2   failed: 1" in printed.out
    )
    report = tmp_path / "results.html"
    assert report.exists() and "Row 1&#x27;s text is empty." in report.read_text()

    prompts.write_text("the cat sat on the\n\nI plan to go\na dog ran\n", encoding="utf-8")
    code = cli.main([*argv, "--method", "saliency,occlusion", "--quiet", "--resume"])
    assert code == 0
    again = [json.loads(line) for line in out.read_text().splitlines()]
    assert again[:6] == records and [r["id"] for r in again[6:]] == ["3", "3"]


def test_run_failures_are_one_line(capsys, tiny_paths, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("the cat\n", encoding="utf-8")
    out = tmp_path / "r.jsonl"
    out.write_text("")
    base = ["run", str(prompts), "--model", tiny_paths["gpt2"], "--quiet"]
    assert cli.main([*base, "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip().endswith("--overwrite to replace it.")
    assert cli.main([*base, "--out", str(tmp_path / "missing.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("whyword: ")
    assert cli.main(["run", str(tmp_path / "nope.txt"), "--out", str(out), "--quiet"]) == 2
    assert "is not a file" in capsys.readouterr().err
