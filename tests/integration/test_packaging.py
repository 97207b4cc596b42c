"""Packaging: one version everywhere, extras that fail with the pip command to run, the CLI's
entry points, pins that agree with the ranges, package data in the wheel, install.sh's stamp.

The wheel itself is built and tried in a fresh venv by scripts/wheel_smoke.sh (run by
scripts/test.sh); these tests stay fast and need no build.
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

import whyword
from whyword import extras
from whyword._version import __version__
from whyword.cli import main as cli
from whyword.errors import MissingExtraError, WhyWordError

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _check_pins():
    spec = importlib.util.spec_from_file_location("check_pins", ROOT / "scripts" / "check_pins.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_pins"] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", **env}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=environ, cwd=ROOT, timeout=300
    )


# ---------------------------------------------------------------- one version


def test_version_is_written_once():
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]|rc)?\d*", __version__)
    assert whyword.__version__ == __version__
    assert "version" not in {k for k in PYPROJECT["project"] if k != "dynamic"}
    assert "version" in PYPROJECT["project"]["dynamic"]
    dynamic = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "whyword._version.__version__"}
    assigned = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "whyword").rglob("*.py")
        if re.search(r"^__version__\s*=", p.read_text(encoding="utf-8"), re.M)
    ]
    assert assigned == ["whyword/_version.py"]


def test_installed_metadata_has_the_same_version():
    try:
        installed = md.version("whyword")
    except md.PackageNotFoundError:
        pytest.skip("whyword is not installed (only on the path)")
    assert installed == __version__, "reinstall: bash scripts/install.sh (the stamp notices)"


def test_version_flag_and_python_m(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"whyword {__version__}"
    done = _run("-m", "whyword", "--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"whyword {__version__}"), done.stderr
    done = _run("-m", "whyword", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: whyword ")
    assert all(word in done.stdout for word in ("predict", "explain", "app", "--version"))


# ---------------------------------------------------------------- extras


def test_require_returns_the_module_when_present():
    import json

    assert extras.require("app", "json") is json


def test_missing_extra_is_one_sentence_with_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "gradio", None)  # as if not installed
    with pytest.raises(MissingExtraError) as error:
        extras.require("app", "gradio")
    message = str(error.value)
    assert isinstance(error.value, WhyWordError) and isinstance(error.value, ImportError)
    assert message == (
        "The web page needs the optional package gradio, which is not installed: "
        'run pip install "whyword[app]"'
    )
    assert extras.install_command("lrp") == 'pip install --no-deps "lxt>=2.1,<2.2"'
    with pytest.raises(ValueError, match="unknown extra 'nope'"):
        extras.install_command("nope")


def test_a_broken_dependency_inside_the_module_is_not_called_missing(tmp_path, monkeypatch):
    (tmp_path / "ww_half_installed.py").write_text("import ww_absent_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as error:
        extras.require("app", "ww_half_installed")
    assert not isinstance(error.value, MissingExtraError)
    assert error.value.name == "ww_absent_dependency"


def test_extras_match_pyproject():
    declared = set(PYPROJECT["project"]["optional-dependencies"])
    assert set(extras.EXTRAS) <= declared
    assert declared - set(extras.EXTRAS) == {"dev", "all"}
    assert set(PYPROJECT["project"]["optional-dependencies"]["all"][0][8:-1].split(",")) == (
        set(extras.EXTRAS) - {"lrp"}
    )


def test_page_and_default_model_name_their_extra(monkeypatch, tmp_path, capsys):
    from whyword import ui
    from whyword.models import default as default_model

    monkeypatch.setitem(sys.modules, "gradio", None)
    with pytest.raises(MissingExtraError, match=re.escape('pip install "whyword[app]"')):
        ui.build_demo()
    assert cli.main(["app"]) == 2  # the command says it in one line, no traceback
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'whyword[app]"' in err and "Traceback" not in err
    monkeypatch.setitem(sys.modules, "gguf", None)
    with pytest.raises(MissingExtraError, match=re.escape('"whyword[default-model]"')):
        default_model._convert(tmp_path / "model.gguf", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_core_dependencies_leave_out_the_optional_parts():
    names = {re.split(r"[<>=!~\[; ]", d)[0] for d in PYPROJECT["project"]["dependencies"]}
    assert names == {"torch", "transformers", "captum", "pandas"}
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    assert "Apache License" in (ROOT / "LICENSE").read_text(encoding="utf-8")


# ---------------------------------------------------------------- `whyword app`


def test_app_command_launches_with_host_port_share_and_model(monkeypatch):
    from whyword import ui
    from whyword.models.limits import current_limits

    launched = {}

    class Page:
        def launch(self, **kwargs):
            launched.update(kwargs, models=current_limits().models)

    monkeypatch.delenv("WHYWORD_MODELS", raising=False)
    monkeypatch.delenv("WHYWORD_HOSTED", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    monkeypatch.setattr(ui, "build_demo", Page)
    argv = ["ui", "--host", "0.0.0.0", "--port", "7999", "--share", "--model", "gpt2"]
    assert cli.main(argv) == 0
    models = launched.pop("models")
    assert launched == {"server_name": "0.0.0.0", "server_port": 7999, "share": True}
    assert models[0] == "gpt2" and "default" in models and models.count("gpt2") == 1
    monkeypatch.delenv("WHYWORD_MODELS")
    assert cli.main(["app"]) == 0
    assert launched == {"server_name": "127.0.0.1", "server_port": 7860, "share": False} | {
        "models": launched["models"]
    }
    assert launched["models"][0] == "default"


# ---------------------------------------------------------------- pins and package data


def test_pins_lie_within_the_ranges():
    problems, _ = _check_pins().check(ROOT)
    assert problems == []


def test_check_pins_catches_each_kind_of_disagreement(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "whyword"\ndependencies = ["torch>=2.6", "pandas>=2.2"]\n'
        '[project.optional-dependencies]\napp = ["gradio>=6,<7"]\nall = ["whyword[app]"]\n'
    )
    (tmp_path / "requirements.txt").write_text(
        "torch==2.5.1\ngradio>=6\nsafetensors==0.8.0  # transitive\n"
    )
    problems, notes = _check_pins().check(tmp_path)
    assert problems == [
        "requirements.txt:2: 'gradio>=6' is not an exact pin (write gradio==VERSION)",
        "requirements.txt:1: torch==2.5.1 is outside pyproject's dependencies range torch>=2.6",
        "requirements.txt: pandas (pyproject dependencies) is not pinned",
        "requirements.txt: gradio (pyproject [app]) is not pinned",
    ]
    assert notes == ["requirements.txt:3: safetensors==0.8.0 is not named in pyproject"]
    (tmp_path / "requirements.txt").write_text("torch==2.13.0\npandas==3.1.1\ngradio==6.31.0\n")
    assert _check_pins().check(tmp_path) == ([], [])


def test_every_data_file_of_the_package_goes_into_the_wheel():
    package = ROOT / "whyword"
    data = {
        p.relative_to(package).as_posix()
        for p in package.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    }
    assert {"ui/static/bridge.js", "assets/examples.json"} <= data
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["whyword"]
    shipped = {p.relative_to(package).as_posix() for g in patterns for p in package.glob(g)}
    assert data <= shipped, f"not in the wheel: {sorted(data - shipped)}"


# ---------------------------------------------------------------- install.sh's stamp


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_install_skips_pip_only_while_the_requirement_files_match(tmp_path):
    for name in ("requirements.txt", "requirements-dev.txt", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "whyword").mkdir()
    shutil.copy(ROOT / "scripts" / "install.sh", tmp_path / "scripts")
    shutil.copy(ROOT / "whyword" / "_version.py", tmp_path / "whyword")
    shim = tmp_path / "shim"  # a python3 that says what install.sh would have installed
    shim.mkdir()
    (shim / "python3").write_text('#!/bin/sh\necho "would install"\nexit 3\n')
    (shim / "python3").chmod(0o755)
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").symlink_to(shutil.which("true"))
    env = {**os.environ, "PATH": f"{shim}:{os.environ['PATH']}"}

    def install(*args: str) -> tuple[int, str]:
        done = subprocess.run(
            ["bash", "scripts/install.sh", *args], cwd=tmp_path, env=env, capture_output=True
        )
        return done.returncode, done.stdout.decode().strip()

    assert install() == (3, "would install")  # no stamp yet
    inputs = ["requirements.txt", "pyproject.toml", "whyword/_version.py", "scripts/install.sh"]

    def stamp(*names: str) -> str:
        blob = b"".join((tmp_path / n).read_bytes() for n in names)
        return __import__("hashlib").sha256(blob).hexdigest()[:16]

    (tmp_path / ".venv" / ".whyword-install-app").write_text(stamp(*inputs) + "\n")
    code, out = install()
    assert code == 0 and out.count("\n") == 0 and "skipping pip" in out
    assert install("dev") == (3, "would install")  # the dev stamp is missing
    with open(tmp_path / "requirements.txt", "a") as f:
        f.write("# a change\n")
    assert install() == (3, "would install")
