"""Every WHYWORD_* variable is one registered setting (whyword/runtime/settings.py): the docs' table and
the code agree both ways, each kind parses what it says, and nothing else reads them."""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path

import pytest

from whyword.errors import InputError
from whyword.runtime import settings

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "whyword"
DOC = ROOT / "docs" / "settings.md"
NAME = re.compile(r"WHYWORD_[A-Z0-9_]*[A-Z0-9]")


def modules() -> dict[str, str]:
    """Dotted module name under whyword (e.g. "serve.command") -> source."""
    return {
        ".".join(path.relative_to(PACKAGE).with_suffix("").parts): path.read_text(encoding="utf-8")
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def doc_rows() -> dict[str, list[str]]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `WHYWORD_"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            rows[cells[0].strip("`")] = cells[1:]
    return rows


# --- the table and the code, both ways ----------------------------------------------------------


def test_every_setting_is_in_the_table_as_defined() -> None:
    rows = doc_rows()
    assert set(rows) == set(settings.REGISTRY), (
        "docs/settings.md and whyword/runtime/settings.py differ"
    )
    for name, s in settings.REGISTRY.items():
        default, accepts, meaning, read_by = rows[name]
        assert default == s.default_text, name
        assert accepts == s.kind.accepts, name
        assert meaning == s.doc, name
        assert read_by == ", ".join(f"`whyword/{m.replace('.', '/')}.py`" for m in s.used_in), name


def test_every_whyword_name_in_the_package_is_a_registered_setting() -> None:
    named = {name for source in modules().values() for name in NAME.findall(source)}
    assert named - set(settings.REGISTRY) == set(), "register these in whyword/runtime/settings.py"
    assert set(settings.REGISTRY) <= named  # each one is mentioned where it is defined, at least


def test_each_setting_is_read_exactly_where_it_says() -> None:
    readers: dict[str, set[str]] = {name: set() for name in settings.REGISTRY}
    for module, source in modules().items():
        for attr in re.findall(r"\bsettings\.([A-Z][A-Z0-9_]*)\b", source):
            if module != "runtime.settings":
                readers[getattr(settings, attr).name].add(module)
    for name, s in settings.REGISTRY.items():
        assert readers[name] == set(s.used_in), name


def test_each_default_is_a_value_of_its_own_kind() -> None:
    for s in settings.REGISTRY.values():
        if s.default is not None:
            assert s.parse(s.kind.show(s.default)) == s.default, s.name


# --- nobody else reads the environment for a WHYWORD_* name ------------------------------------


def environ_reads(source: str) -> list[int]:
    """Lines that touch the environment with a WHYWORD_* key, or with a key that is not a
    literal (it could be one), or in any other way (update, items, a copy...)."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def safe(key: ast.AST | None) -> bool:
        return (
            isinstance(key, ast.Constant)
            and isinstance(key.value, str)
            and not key.value.startswith("WHYWORD_")
        )

    bad = []
    for node in ast.walk(tree):
        called = getattr(node, "func", None)
        if getattr(called, "attr", getattr(called, "id", None)) == "getenv":
            if not (node.args and safe(node.args[0])):
                bad.append(node.lineno)
            continue
        if not (getattr(node, "attr", None) == "environ" or getattr(node, "id", None) == "environ"):
            continue
        up = parents.get(node)
        if isinstance(up, ast.Subscript) and up.value is node:
            key = up.slice
        elif isinstance(up, ast.Attribute) and up.attr in ("get", "setdefault", "pop"):
            call = parents.get(up)
            key = call.args[0] if isinstance(call, ast.Call) and call.args else None
        elif isinstance(up, ast.Compare) and node in up.comparators:
            key = up.left
        else:
            key = None
        if not safe(key):
            bad.append(node.lineno)
    return bad


def test_only_the_settings_module_reads_whyword_variables() -> None:
    offenders = {
        module: lines
        for module, source in modules().items()
        if module != "runtime.settings" and (lines := environ_reads(source))
    }
    assert offenders == {}, "read these through whyword.runtime.settings"


@pytest.mark.parametrize(
    "code",
    [
        'import os\nflag = os.environ.get("WHYWORD_HOSTED")',  # limits.py before
        'import os\nx = os.environ.get("WHYWORD_BATCHING", "1") != "0"',  # scheduler.py before
        'import os\ndef f(name):\n    return os.environ.get(name, "").strip()',  # env_number
        'import os\nos.environ["WHYWORD_MODELS"] = "a,b"',  # cli.py before
        'import os\nif os.environ.get("WHYWORD_CACHE"):\n    p = os.environ["WHYWORD_CACHE"]',
        'from os import environ\nv = environ.get("WHYWORD_DEVICE")',
        'import os\nv = os.getenv("WHYWORD_LANES")',
        'import os\nok = "WHYWORD_HOSTED" in os.environ',
        "import os\nenv = dict(os.environ)",
    ],
)
def test_the_check_catches_each_way_of_reading_one(code: str) -> None:
    assert environ_reads(code)


def test_the_check_lets_other_variables_be() -> None:
    code = 'import os\na = os.environ.get("SPACE_ID")\nos.environ.setdefault("HF_HOME", "x")'
    assert environ_reads(code + '\nb = "SPACE_ID" in os.environ') == []


# --- the parsers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "raw", "expected"),
    [
        (settings.HOSTED, " On ", True),
        (settings.HOSTED, "TRUE", True),
        (settings.HOSTED, "no", False),
        (settings.BATCHING, "0", False),
        (settings.BATCHING, "off", False),
        (settings.LANES, "yes", True),
        (settings.CACHE_ENTRIES, " 0 ", 0),
        (settings.CACHE_ENTRIES, "12", 12),
        (settings.CACHE_MB, "1.5", 1.5),
        (settings.FORWARD_MB, "0", 0.0),
        (settings.MEMORY_BUDGET, "3GB", 3 * 10**9),
        (settings.MEMORY_BUDGET, "512 MiB", 512 * 2**20),
        (settings.MODELS, "gpt2, ./x, gpt2,", ("gpt2", "./x")),
        (settings.BACKEND, "http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        (settings.DEVICE, "cuda:1", "cuda:1"),
        (settings.CACHE, "/tmp/ww", Path("/tmp/ww")),
        (settings.MAX_MODELS, "3", 3),
        (settings.MAX_MODELS, "0", 1),
    ],
)
def test_good_values_parse(monkeypatch, setting, raw: str, expected) -> None:
    assert setting.parse(raw) == expected
    monkeypatch.setenv(setting.name, raw)
    assert setting.get() == expected  # read now, from the environment


@pytest.mark.parametrize(
    ("setting", "raw"),
    [
        (settings.HOSTED, "maybe"),
        (settings.BATCHING, "2"),
        (settings.CACHE_ENTRIES, "1.5"),
        (settings.CACHE_ENTRIES, "-1"),
        (settings.CACHE_MB, "lots"),
        (settings.CACHE_MB, "nan"),
        (settings.FORWARD_MB, "-3"),
        (settings.MEMORY_BUDGET, "10KB"),
        (settings.BACKEND, "127.0.0.1:8000"),
    ],
)
def test_a_malformed_value_is_one_sentence(monkeypatch, setting, raw: str) -> None:
    monkeypatch.setenv(setting.name, raw)
    with pytest.raises(InputError) as caught:
        setting.get()
    message = str(caught.value)
    assert message == f"{setting.name} must be {setting.kind.accepts}, got {raw!r}."
    assert message.count(". ") == 0 and "\n" not in message  # one sentence


def test_unset_or_blank_is_the_default(monkeypatch) -> None:
    for s in settings.REGISTRY.values():
        monkeypatch.delenv(s.name, raising=False)
        assert s.get() == s.default, s.name
        monkeypatch.setenv(s.name, "  ")
        assert s.get() == s.default, s.name


def test_a_lenient_setting_logs_and_uses_its_default(monkeypatch, caplog) -> None:
    monkeypatch.setenv("WHYWORD_MAX_MODELS", "two")
    with caplog.at_level(logging.WARNING, logger="whyword.runtime.settings"):
        assert settings.MAX_MODELS.get() == 2
    assert "WHYWORD_MAX_MODELS must be a whole number" in caplog.text


def test_put_writes_what_get_reads(monkeypatch) -> None:
    monkeypatch.setenv("WHYWORD_MODELS", "gpt2")  # restored afterwards
    settings.MODELS.put(("distilgpt2", "default"))
    assert settings.MODELS.get() == ("distilgpt2", "default")
