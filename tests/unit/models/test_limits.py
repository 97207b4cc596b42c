"""Hosted mode's limits (whyword/models/limits.py): when hosted mode is on, the model allowlist,
the caps on numbers and text, and the line that names them."""

from __future__ import annotations

import re

import pytest

import whyword as ww
from whyword.models.limits import Limits, current_limits, is_hosted, model_choices


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


# --- the caps --------------------------------------------------------------------------------


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


# --- the caps in one line --------------------------------------------------------------------


def test_describe_names_every_cap(hosted: Limits) -> None:
    line = hosted.describe()
    for value in ("Hosted mode", "2,000", "64", "25", "128", "32", "no local folders", "never"):
        assert value in line, value
