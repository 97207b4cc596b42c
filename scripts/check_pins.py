"""Check that the app's exact pins (requirements*.txt) agree with the library's ranges (pyproject).

    python scripts/check_pins.py          # exit 0 and one summary line, or 1 and one line a problem

Rules: every line of a requirements file is an exact `name==version` pin; every pin of a package
that pyproject.toml names (in `dependencies` or any extra) satisfies that range; every runtime
dependency (core, `app`, `default-model`) is pinned in requirements.txt, so the two README
commands install a tested set. Pins of packages pyproject does not name are allowed (a
transitive dependency held still) and listed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ("requirements.txt", "requirements-dev.txt")
RUNTIME_EXTRAS = ("app", "default-model")  # what requirements.txt (the app, a Space) installs


@dataclass(frozen=True)
class Pin:
    name: str  # canonical
    version: Version
    where: str  # "requirements.txt:7"


def read_pins(path: Path) -> tuple[list[Pin], list[str]]:
    """The exact pins of one requirements file, and a problem line for each line that is not one."""
    pins, problems = [], []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        where = f"{path.name}:{number}"
        if not line:
            continue
        try:
            req = Requirement(line)
        except ValueError as error:
            problems.append(f"{where}: not a requirement ({error}): {raw.strip()}")
            continue
        exact = [s for s in req.specifier if s.operator in ("==", "===") and "*" not in s.version]
        if len(req.specifier) != 1 or not exact:
            problems.append(f"{where}: {line!r} is not an exact pin (write {req.name}==VERSION)")
            continue
        pins.append(Pin(canonicalize_name(req.name), Version(exact[0].version), where))
    return pins, problems


def read_ranges(pyproject: Path) -> dict[str, dict[str, list[Requirement]]]:
    """group ("" for core, else the extra) -> canonical name -> its requirements there."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    groups = {"": project.get("dependencies", [])} | project.get("optional-dependencies", {})
    out: dict[str, dict[str, list[Requirement]]] = {}
    for group, lines in groups.items():
        for line in lines:
            req = Requirement(line)
            name = canonicalize_name(req.name)
            if name == canonicalize_name(project["name"]):
                continue  # `all = ["whyword[app,...]"]` refers to the other extras
            out.setdefault(group, {}).setdefault(name, []).append(req)
    return out


def check(root: Path = ROOT) -> tuple[list[str], list[str]]:
    """(problems, notes) for the requirement files under `root`."""
    ranges = read_ranges(root / "pyproject.toml")
    problems: list[str] = []
    notes: list[str] = []
    pinned: dict[str, Pin] = {}
    for name in LOCKS:
        path = root / name
        if not path.is_file():
            continue
        pins, bad = read_pins(path)
        problems += bad
        for pin in pins:
            if name == "requirements.txt":
                pinned[pin.name] = pin
            named = [(g, r) for g, reqs in ranges.items() for r in reqs.get(pin.name, [])]
            if not named:
                notes.append(f"{pin.where}: {pin.name}=={pin.version} is not named in pyproject")
            for group, req in named:
                if not req.specifier.contains(pin.version, prereleases=True):
                    label = f"[{group}]" if group else "dependencies"
                    problems.append(
                        f"{pin.where}: {pin.name}=={pin.version} is outside pyproject's "
                        f"{label} range {req.name}{req.specifier}"
                    )
    for group in ("", *RUNTIME_EXTRAS):
        for name in ranges.get(group, {}):
            if name not in pinned:
                label = f"[{group}]" if group else "dependencies"
                problems.append(f"requirements.txt: {name} (pyproject {label}) is not pinned")
    return problems, notes


def main() -> int:
    problems, notes = check()
    for line in notes:
        print(f"note: {line}")
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    if problems:
        return 1
    print("check_pins: every pin in requirements*.txt lies within pyproject.toml's ranges")
    return 0


if __name__ == "__main__":
    sys.exit(main())
