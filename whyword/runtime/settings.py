"""Every `WHYWORD_*` environment variable the package reads, each defined once.

A `Setting` is a name, a `Kind` (the one parser for that kind of value and the words saying
what it accepts), a default, a one-line doc and the modules that use it. `setting.get()` reads
the environment on every call, so a value set at run time (or by a test) takes effect at once;
unset or blank is the default. A malformed value is one sentence naming the variable and what
it accepts, raised as an `InputError` — or, for a `lenient` setting, logged and replaced by the
default. docs/settings.md lists them all; tests/unit/runtime/test_settings.py keeps it and the
code in step. No other module reads `os.environ` for a `WHYWORD_*` name.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whyword.errors import InputError, shown

log = logging.getLogger("whyword.runtime.settings")
PREFIX = "WHYWORD_"


@dataclass(frozen=True)
class Kind:
    """How one kind of value is read: `parse` takes the stripped text and raises ValueError
    when it is malformed; `accepts` completes "NAME must be ..."; `show` writes a value back."""

    accepts: str
    parse: Callable[[str], Any]
    show: Callable[[Any], str] = str


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _flag(text: str) -> bool:
    word = text.lower()
    if word not in _TRUE + _FALSE:
        raise ValueError(text)
    return word in _TRUE


def _at_least(minimum: float, kind: type) -> Callable[[str], Any]:
    def parse(text: str):
        value = kind(text)  # ValueError when it is not a number of this kind
        if not value >= minimum:  # also refuses nan
            raise ValueError(text)
        return value

    return parse


def _count_at_least_one(text: str) -> int:
    return max(1, int(text))  # 0 or below: one


_UNITS = {"": 1, "b": 1} | {  # k, kib: 2¹⁰; kb: 10³; ... up to t, tib, tb
    prefix + suffix: 10 ** (3 * power) if suffix == "b" else 2 ** (10 * power)
    for power, prefix in enumerate("kmgt", start=1)
    for suffix in ("", "b", "ib")
}


def _size(text: str) -> int:
    """Bytes from "2GB", "512 MiB", "1.5g" or "3000000000"; GB is 10⁹, GiB and G are 2³⁰."""
    match = re.fullmatch(r"(\d+(?:\.\d*)?)\s*([a-zA-Z]*)", text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS or float(match.group(1)) * _UNITS[unit] < 2**20:
        raise ValueError(text)
    return int(float(match.group(1)) * _UNITS[unit])


def _names(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))


def _address(text: str) -> str:
    if not re.fullmatch(r"https?://\S+", text):
        raise ValueError(text)
    return text


FLAG = Kind("one of 1, 0, true, false, yes, no, on, off", _flag, lambda v: "1" if v else "0")
COUNT = Kind("a whole number ≥ 0", _at_least(0, int))
MODELS_KEPT = Kind("a whole number (0 or less counts as 1)", _count_at_least_one)
MEGABYTES = Kind("a number ≥ 0", _at_least(0, float), lambda v: f"{v:g}")
SIZE = Kind("a size of at least 1 MiB such as 2GB, 512MiB or 3000000000", _size)
NAMES = Kind("a comma-separated list of model names", _names, ",".join)
ADDRESS = Kind("an http:// or https:// address such as http://127.0.0.1:8000", _address)
TEXT = Kind("any text", str)
FOLDER = Kind("a folder path", Path)


@dataclass(frozen=True)
class Setting:
    """One environment variable: read on every `get()`, never frozen at import."""

    name: str
    kind: Kind
    default: Any
    doc: str  # one line: what it does (docs/settings.md's "Meaning")
    used_in: tuple[str, ...]  # the modules that read it (whyword/<module>.py)
    shown_default: str | None = None  # the default in words, when it is not one value
    lenient: bool = False  # malformed: logged and the default used, never an error

    def __post_init__(self) -> None:
        assert self.name.startswith(PREFIX) and self.name.isupper(), self.name
        assert self.doc and "\n" not in self.doc and self.used_in

    def get(self) -> Any:
        """The value now: the environment's, else the default."""
        return self.parse(os.environ.get(self.name))

    def parse(self, raw: str | None) -> Any:
        """`raw` (unset or blank: the default) parsed as this setting's kind."""
        if raw is None or not str(raw).strip():
            return self.default
        if not self.lenient:
            return self.convert(raw)
        try:
            return self.convert(raw)
        except InputError as error:
            log.warning("%s Using the default, %s.", error, self.default_text)
            return self.default

    def convert(self, raw: str) -> Any:
        """`raw` as this setting's kind, or the one sentence saying what it accepts."""
        try:
            return self.kind.parse(str(raw).strip())
        except ValueError:
            raise InputError(
                f"{self.name} must be {self.kind.accepts}, got {shown(raw)}."
            ) from None

    def put(self, value: Any) -> None:
        """Set it for this process (and the processes it starts), as the CLI's flags do."""
        os.environ[self.name] = self.kind.show(value)

    @property
    def default_text(self) -> str:
        return self.shown_default or self.kind.show(self.default)


REGISTRY: dict[str, Setting] = {}


def _register(setting: Setting) -> Setting:
    assert setting.name not in REGISTRY, setting.name
    REGISTRY[setting.name] = setting
    return setting


# fmt: off
HOSTED = _register(Setting(
    "WHYWORD_HOSTED", FLAG, None,
    "Hosted mode (model allowlist, no local folders, tighter caps); off explicitly with 0.",
    ("models.limits",), shown_default="on when SPACE_ID is set (a Space), else off"))
MODELS = _register(Setting(
    "WHYWORD_MODELS", NAMES,
    ("default", "distilgpt2", "gpt2", "bert-base-uncased", "distilroberta-base"),
    "The models the page offers; hosted, the only ones it loads (\"default\" is always first).",
    ("models.limits", "cli.app")))
MAX_MODELS = _register(Setting(
    "WHYWORD_MAX_MODELS", MODELS_KEPT, 2,
    "Models kept loaded at once (least recently used dropped); a typo falls back to the default.",
    ("models.load",), lenient=True))
DEVICE = _register(Setting(
    "WHYWORD_DEVICE", TEXT, "auto",
    "Where models run: auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps.",
    ("models.devices",)))
MEMORY_BUDGET = _register(Setting(
    "WHYWORD_MEMORY_BUDGET", SIZE, None,
    "Memory one batched model call may use (e.g. 3GB, 512MiB), on any device.",
    ("models.budget",), shown_default="2GiB on CPU, half the free memory on CUDA / MPS"))
CACHE = _register(Setting(
    "WHYWORD_CACHE", FOLDER, None,
    "Folder for converted models, the extracted retriever and evidence embeddings.",
    ("models.default",), shown_default="$XDG_CACHE_HOME/whyword, else ~/.cache/whyword"))
CACHE_ENTRIES = _register(Setting(
    "WHYWORD_CACHE_ENTRIES", COUNT, 128,
    "Results the result cache keeps; 0 turns it and the forward cache off.",
    ("engine.cache", "runtime.forward_cache")))
CACHE_MB = _register(Setting(
    "WHYWORD_CACHE_MB", MEGABYTES, 64.0,
    "Megabytes of results the result cache keeps (a result's size: its JSON's length).",
    ("engine.cache",)))
FORWARD_MB = _register(Setting(
    "WHYWORD_FORWARD_MB", MEGABYTES, 128.0,
    "Megabytes of no-gradient logits the forward cache keeps for retargets.",
    ("runtime.forward_cache",)))
BATCHING = _register(Setting(
    "WHYWORD_BATCHING", FLAG, True,
    "Requests of one model and method share batched calls; 0 runs each alone.",
    ("serve.scheduler",)))
LANES = _register(Setting(
    "WHYWORD_LANES", FLAG, True,
    "Heavy requests run in their own lane beside light ones; 0 puts all in one queue.",
    ("serve.scheduler",)))
BACKEND = _register(Setting(
    "WHYWORD_BACKEND", ADDRESS, None,
    "The Ray Serve deployment the page sends its work to (`whyword serve` prints it).",
    ("serve.backend",), shown_default="unset: explain in this process"))
# fmt: on


def table() -> str:
    """docs/settings.md's table: variable, default, what it accepts, meaning, read by."""
    rows = ["| Variable | Default | Accepts | Meaning | Read by |", "|---|---|---|---|---|"]
    for s in REGISTRY.values():
        used = ", ".join(f"`whyword/{m.replace('.', '/')}.py`" for m in s.used_in)
        rows.append(f"| `{s.name}` | {s.default_text} | {s.kind.accepts} | {s.doc} | {used} |")
    return "\n".join(rows)
