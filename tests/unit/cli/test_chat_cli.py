"""`whyword chat`: the reply, the span and its message scores as text and JSON, on a tiny
GPT-2 saved with a chat template; a model without one is one line on stderr."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.tiny import CHAT_TEMPLATE
from whyword.cli.main import main


@pytest.fixture(scope="module")
def chat_gpt2(tiny_paths, tmp_path_factory) -> str:
    from transformers import AutoTokenizer

    folder = tmp_path_factory.mktemp("chat-gpt2") / "model"
    shutil.copytree(tiny_paths["gpt2"], folder)
    tok = AutoTokenizer.from_pretrained(folder)
    tok.chat_template = CHAT_TEMPLATE
    tok.save_pretrained(folder)
    return str(folder)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_chat_json_explains_the_typed_span_per_message(capsys, chat_gpt2):
    argv = ["chat", "--model", chat_gpt2, "--system", "the cat.", "--user", "the dog?"]
    code, out, _ = run(capsys, *argv, "--reply", "the mat.", "--span", "1:3", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["span"][1] - data["span"][0] == 2
    assert [u["label"] for u in data["messages"]["saliency"]] == ["system", "user", "reply"]
    assert "never attributed as words" in data["note"]
    code, out, _ = run(capsys, *argv, "--reply", "the mat.", "--span", "mat", "--level", "sentence")
    assert code == 0 and "per sentence" in out and "the dog?" in out and "F = log p(target)" in out


def test_chat_without_a_template_is_one_line(capsys, tiny_paths):
    code, out, err = run(capsys, "chat", "--model", tiny_paths["gpt2"], "--user", "the dog?")
    assert code == 2 and not out
    assert "has no chat template" in err and err.count("\n") == 1
