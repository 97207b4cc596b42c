"""Hosted mode: when it is on, what it allows, and that no request makes the server run code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import whyword as ww
from whyword.models.limits import Limits, current_limits, is_hosted, model_choices

ROOT = Path(__file__).resolve().parents[2]
SECURITY_DOC = ROOT / "docs" / "security.md"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch) -> None:
    for name in ("WHYWORD_HOSTED", "SPACE_ID", "WHYWORD_MODELS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture()
def hosted(monkeypatch) -> Limits:
    monkeypatch.setenv("WHYWORD_HOSTED", "1")
    return current_limits()


# --- when hosted mode is on ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"WHYWORD_HOSTED": "1"}, True),
        ({"WHYWORD_HOSTED": "true"}, True),
        ({"WHYWORD_HOSTED": " On "}, True),
        ({"SPACE_ID": "someone/whyword"}, True),  # on a Space: automatic
        ({"SPACE_ID": "someone/whyword", "WHYWORD_HOSTED": "0"}, False),  # explicit opt-out
        ({"WHYWORD_HOSTED": "no"}, False),
        ({"SPACE_ID": ""}, False),
    ],
)
def test_hosted_mode_switch(monkeypatch, env: dict[str, str], expected: bool) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert is_hosted() is expected
    assert current_limits().hosted is expected


def test_hosted_caps_are_tighter_than_local(monkeypatch) -> None:
    local = current_limits()
    monkeypatch.setenv("WHYWORD_HOSTED", "1")
    hosted = current_limits()
    assert not hosted.any_model and not hosted.local_paths
    assert local.any_model and local.local_paths
    for cap in ("max_chars", "max_tokens", "max_k", "max_steps", "max_samples"):
        assert getattr(hosted, cap) < getattr(local, cap), cap


# --- the model allowlist ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("default", "default"),
        ("", "default"),
        (None, "default"),
        ("  gpt2  ", "gpt2"),
        ("bert-base-uncased", "bert-base-uncased"),
        ("some/other-model", "only offers"),
        ("GPT2", "only offers"),  # the list is exact
        ("gpt2@main", "only offers"),
        ("/etc", "local folders"),
        ("./models/gpt2", "local folders"),
        ("../gpt2", "local folders"),
        ("~/models/gpt2", "local folders"),
        ("C:\\models\\gpt2", "local folders"),
        ("\\\\server\\share", "local folders"),
    ],
)
def test_hosted_allowlist(hosted: Limits, name: str | None, expected: str) -> None:
    if expected in hosted.models:
        assert hosted.check_model(name) == expected
    else:
        with pytest.raises(ww.InputError, match=expected):
            hosted.check_model(name)


def test_local_mode_takes_any_hub_id_or_folder() -> None:
    limits = current_limits()
    assert limits.check_model("some/other-model") == "some/other-model"
    assert limits.check_model("/tmp/model") == "/tmp/model"


def test_the_allowlist_comes_from_the_environment_without_folders(monkeypatch) -> None:
    monkeypatch.setenv("WHYWORD_MODELS", "gpt2, /srv/private-model, ./x, gpt2,")
    assert model_choices() == ("default", "gpt2", "/srv/private-model", "./x")
    assert model_choices(hosted=True) == ("default", "gpt2")
    monkeypatch.setenv("WHYWORD_HOSTED", "1")
    limits = current_limits()
    assert limits.models == ("default", "gpt2")
    with pytest.raises(ww.InputError, match="local folders"):
        limits.check_model("/srv/private-model")


# --- the caps ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [
        ({"k": 25, "steps": 128, "samples": 32}, None),
        ({"k": 1, "steps": 1, "samples": 1}, None),
        ({"k": 26, "steps": 1, "samples": 1}, "k is 26; this server allows at most 25"),
        ({"k": 1, "steps": 129, "samples": 1}, "IG steps is 129; this server allows at most 128"),
        ({"k": 1, "steps": 1, "samples": 33}, "SmoothGrad samples is 33"),
        ({"k": 0, "steps": 1, "samples": 1}, "k must be at least 1, got 0"),
        ({"k": 1, "steps": -4, "samples": 1}, "IG steps must be at least 1"),
        ({"k": 10**12, "steps": 1, "samples": 1}, "at most 25"),
        ({"k": 2.5, "steps": 1, "samples": 1}, "k must be a whole number"),
        ({"k": "5", "steps": 1, "samples": 1}, "k must be a whole number"),
        ({"k": True, "steps": 1, "samples": 1}, "k must be a whole number"),
        ({"k": 1, "steps": None, "samples": 1}, "IG steps must be a whole number"),
    ],
)
def test_hosted_number_caps(hosted: Limits, numbers: dict, expected: str | None) -> None:
    if expected is None:
        hosted.check_numbers(**numbers)
    else:
        with pytest.raises(ww.InputError, match=re.escape(expected)):
            hosted.check_numbers(**numbers)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x" * 2000, None),
        ("x" * 2001, "The text is 2,001 characters; this server takes at most 2,000."),
        ("🙂" * 2001, "2,001 characters"),  # characters, not bytes
        (b"bytes", "must be a string"),
    ],
)
def test_hosted_text_cap(hosted: Limits, text, expected: str | None) -> None:
    if expected is None:
        hosted.check_text(text)
    else:
        with pytest.raises(ww.InputError, match=re.escape(expected)):
            hosted.check_text(text)


def test_hosted_token_cap_reaches_the_library(hosted: Limits, tiny_paths, monkeypatch) -> None:
    """Within the character cap, the token cap still refuses (through the app's handlers)."""
    from dataclasses import replace

    from whyword.ui import handlers
    from whyword.ui.share import Query

    lenient = replace(hosted, local_paths=True, any_model=True)  # only to reach a tiny model
    from whyword.ui import session

    monkeypatch.setattr(session, "current_limits", lambda: lenient)
    text = "word " * 200  # 1 000 characters, ~200 tokens
    outcome = handlers.run(Query(text=text, model=tiny_paths["gpt2"], steps=4, max_steps=4))
    assert not outcome.ok and f"at most {min(hosted.max_tokens, 128)}" in outcome.error


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ({"model": "/tmp"}, "does not load models from local folders"),
        ({"model": "some/other-model"}, "only offers these models"),
        ({"text": "x" * 2001}, "2,001 characters; this server takes at most 2,000"),
        ({"k": 26}, "k is 26; this server allows at most 25"),
        ({"steps": 257}, "IG steps is 257; this server allows at most 128"),
    ],
)
def test_hosted_limits_hold_for_the_api_endpoints(hosted: Limits, call: dict, message) -> None:
    from whyword.ui import handlers

    args = {"text": "The capital of France is", "model": "default", "k": 5, **call}
    steps = args.pop("steps", 4)
    with pytest.raises(ww.WhyWordError, match=message):
        handlers.api_explain(**args, methods="saliency", steps=steps)
    if "steps" not in call:  # predict takes no IG steps: it has no such limit to check
        predict_args = {key: args[key] for key in ("text", "model", "k")}
        with pytest.raises(ww.WhyWordError, match=message):
            handlers.api_predict(**predict_args)


def test_hosted_share_link_cannot_point_at_a_folder(hosted: Limits, tiny_paths) -> None:
    from whyword.ui import handlers
    from whyword.ui.share import decode

    outcome = handlers.run(decode({"text": "The capital of", "model": tiny_paths["gpt2"]}))
    assert not outcome.ok and "local folders" in outcome.error


# --- a model's own code never runs -----------------------------------------------------------


def custom_code_folder(folder: Path) -> Path:
    """A model folder whose config needs its own Python code; importing it leaves a marker."""
    folder.mkdir(parents=True)
    config = {
        "model_type": "whyword-custom",
        "architectures": ["CustomForCausalLM"],
        "auto_map": {
            "AutoConfig": "configuration_custom.CustomConfig",
            "AutoModelForCausalLM": "modeling_custom.CustomForCausalLM",
        },
    }
    (folder / "config.json").write_text(json.dumps(config))
    payload = "import pathlib\npathlib.Path(__file__).with_name('RAN').write_text('ran')\n"
    for module in ("configuration_custom.py", "modeling_custom.py"):
        (folder / module).write_text(payload)
    return folder


def test_custom_code_is_never_run(tmp_path) -> None:
    folder = custom_code_folder(tmp_path / "custom")
    with pytest.raises(ww.ModelLoadError, match="needs custom code, which WhyWord never runs"):
        ww.load_model(str(folder))
    assert not (folder / "RAN").exists()


def test_trust_remote_code_is_never_true_in_the_source() -> None:
    sources = [p for p in (ROOT / "whyword").rglob("*.py")] + [ROOT / "app.py"]
    assert len(sources) > 10 and (ROOT / "app.py").is_file()
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "trust_remote_code=True" not in text, path
        assert not re.search(r"trust_remote_code\s*=\s*(?!False)", text), path


def test_trust_remote_code_is_not_an_option() -> None:
    with pytest.raises(ww.InputError, match="Unknown option"):
        ww.ExplainOptions.build(trust_remote_code=True)


# --- the caps are shown and documented -------------------------------------------------------


def test_describe_names_every_cap(hosted: Limits) -> None:
    line = hosted.describe()
    for value in ("Hosted mode", "2,000", "64", "25", "128", "32", "no local folders", "never"):
        assert value in line, value


def test_the_security_doc_lists_the_hosted_caps(hosted: Limits) -> None:
    doc = SECURITY_DOC.read_text(encoding="utf-8")
    for value in (
        f"{hosted.max_chars:,}",
        hosted.max_tokens,
        hosted.max_k,
        hosted.max_steps,
        hosted.max_samples,
        "WHYWORD_HOSTED",
        "SPACE_ID",
        "WHYWORD_MODELS",
        "WHYWORD_MAX_MODELS",
        "trust_remote_code",
    ):
        assert str(value) in doc, value


def test_the_page_shows_the_caps(hosted: Limits) -> None:
    pytest.importorskip("gradio")
    from whyword.ui.app import build_demo

    demo = build_demo()
    shown = " ".join(str(getattr(block, "value", "") or "") for block in demo.blocks.values())
    assert "Hosted mode" in shown and "2,000" in shown and "IG steps ≤ 128" in shown
