"""A dataset run's input (whyword/tasks/rows.py): .txt, .jsonl, .csv and saved `datasets`
folders read into rows; a bad row becomes a row with its one-sentence reason, never an error
that stops the run. No model is loaded."""

from __future__ import annotations

import json

import pytest

from whyword.errors import InputError, MissingExtraError
from whyword.results.dataset import DatasetRow
from whyword.tasks.rows import read_rows, rows_of


def test_txt_is_one_prompt_a_line_kept_as_typed(tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_bytes(b"The cat sat on the\n  two spaces \r\n\nlast line")
    rows = read_rows(path)
    assert [r.text for r in rows] == ["The cat sat on the", "  two spaces ", "", "last line"]
    assert [r.id for r in rows] == ["0", "1", "2", "3"]  # the row number, as text
    assert [r.problem for r in rows] == [None, None, "Row 2's text is empty.", None]
    assert all(r.target is None and r.foil is None for r in rows)


def test_jsonl_reads_columns_and_keeps_bad_lines_as_failed_rows(tmp_path):
    lines = [
        json.dumps({"id": "a", "text": "The capital of France is", "target": " Paris"}),
        json.dumps({"text": "I like", "foil": " cats", "target": ""}),
        "{not json",
        json.dumps(["a list"]),
        json.dumps({"prompt": "no text column", "id": 7}),
        json.dumps({"text": 3}),
        "",  # a blank line is no row
        json.dumps({"text": "   "}),
    ]
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    rows = read_rows(path)
    assert rows[0] == DatasetRow("a", "The capital of France is", " Paris", None)
    assert rows[1] == DatasetRow("1", "I like", None, " cats")  # "" target: the top-1
    assert rows[2].problem.startswith("Line 3 is not JSON")
    assert rows[3].problem == "Line 4 is not a JSON object."
    assert rows[4].id == "7" and rows[4].problem == "Row 4 has no text column (columns: prompt, id)."
    assert rows[5].problem == "Row 5's text is int, not a string."
    assert rows[6].problem == "Row 6's text is empty."
    assert len(rows) == 7


def test_csv_reads_columns_and_a_missing_text_column_fails_every_row(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text('id,text,target\nx,"Hello, world",\ny,Paris is in," France"\n', "utf-8")
    assert read_rows(good) == [
        DatasetRow("x", "Hello, world"),
        DatasetRow("y", "Paris is in", " France"),
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("prompt\nhello\nworld\n", encoding="utf-8")
    rows = read_rows(bad)
    assert [r.problem for r in rows] == [
        "Row 0 has no text column (columns: prompt).",
        "Row 1 has no text column (columns: prompt).",
    ]


def test_repeated_ids_make_the_later_row_fail():
    rows = rows_of([{"id": "q", "text": "one"}, {"id": "q", "text": "two"}, "three"])
    assert rows[0] == DatasetRow("q", "one")
    assert rows[1].id == "q#1" and "repeats the id 'q'" in rows[1].problem
    assert rows[2] == DatasetRow("2", "three")


@pytest.mark.parametrize(
    "source, message",
    [
        ("nowhere.jsonl", "is not a file"),
        ("hf:", "write hf:NAME"),
        ("hf:imdb:test:0", "N must be a positive"),
    ],
)
def test_unreadable_sources_are_one_sentence(source, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=message):
        read_rows(source)


def test_unknown_suffix_is_refused(tmp_path):
    path = tmp_path / "rows.xlsx"
    path.write_text("x")
    with pytest.raises(InputError, match=r"give a \.txt, \.jsonl, \.csv file"):
        read_rows(path)


def test_saved_datasets_folder_reads_like_jsonl(tmp_path):
    try:
        import datasets
    except ImportError:
        folder = tmp_path / "saved"
        folder.mkdir()
        with pytest.raises(MissingExtraError, match=r'pip install "whyword\[data\]"'):
            read_rows(folder)
        pytest.skip("datasets is not installed (the optional `data` extra): its error checked")
    data = {"text": ["The cat sat on the", ""], "target": [" mat", None], "id": [10, 11]}
    datasets.Dataset.from_dict(data).save_to_disk(str(tmp_path / "saved"))
    rows = read_rows(tmp_path / "saved")
    assert rows[0] == DatasetRow("10", "The cat sat on the", " mat")
    assert rows[1].id == "11" and rows[1].problem == "Row 1's text is empty."
