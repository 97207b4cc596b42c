"""Hosted mode end to end: its limits hold through the page's handlers and the API endpoints,
no request makes the server run a model's code, and the page and docs show the caps.

The limits themselves (when hosted mode is on, the allowlist, each cap): tests/unit/models/test_limits.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import whyword as ww
from whyword.models.limits import Limits, current_limits

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


# --- the limits through the page's handlers and the API endpoints ----------------------------


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
