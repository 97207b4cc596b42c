"""The tests' own layout (tests/README.md): every test file sits in `tests/unit/<package>/` (a
whyword sub-package, or `testkit`), `tests/integration/` or `tests/browser/`, never directly in
`tests/`; browser tests and only they are in `tests/browser/`; every folder is a package (so two
files may share a basename); no test file is over 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
PACKAGE = TESTS.parent / "whyword"
TOP_LEVEL = {"__init__.py", "conftest.py", "tiny.py", "tolerances.py"}  # shared by every folder
LEVELS = ("unit", "integration", "browser")
MAX_LINES = 400


def sub_packages(package: Path) -> set[str]:
    """The folders `tests/unit/` may hold: whyword's sub-packages and the test kit's tests."""
    return {p.parent.name for p in package.glob("*/__init__.py")} | {"testkit"}


def marks_browser(source: str) -> bool:
    """Whether the code uses `pytest.mark.browser` (not merely names it in a string)."""
    return any(
        isinstance(node, ast.Attribute)
        and node.attr == "browser"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "mark"
        for node in ast.walk(ast.parse(source))
    )


def layout_problems(tests: Path, packages: set[str]) -> list[str]:
    """One sentence per file or folder that breaks the layout, in path order."""
    problems = []
    for path in sorted(tests.rglob("*.py")):
        rel = path.relative_to(tests)
        name = f"tests/{rel.as_posix()}"
        if len(rel.parts) == 1:
            if rel.name not in TOP_LEVEL:
                problems.append(f"{name} sits directly in tests/; move it to one of {LEVELS}")
            continue
        if not (path.parent / "__init__.py").is_file():
            problems.append(f"{name}: its folder has no __init__.py")
        if not path.name.startswith("test_"):
            continue  # a folder's helpers (conftest.py, browser_kit.py, ...)
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines > MAX_LINES:
            problems.append(f"{name} has {lines} lines, more than {MAX_LINES}: split it by topic")
        level = rel.parts[0]
        if level not in LEVELS:
            problems.append(f"{name} is in {level}/, not one of {LEVELS}")
        elif level == "unit" and (len(rel.parts) < 3 or rel.parts[1] not in packages):
            problems.append(f"{name} is not in tests/unit/<package>/ for a package of whyword")
        if marks_browser(text) != (level == "browser"):
            problems.append(f"{name}: browser tests, and only they, belong in tests/browser/")
    return problems


def test_the_tests_are_laid_out_by_level_and_package() -> None:
    packages = sub_packages(PACKAGE)
    assert {"attr", "engine", "render", "ui"} <= packages  # the package was found
    assert len(list(TESTS.rglob("test_*.py"))) > 50  # and the tests
    assert layout_problems(TESTS, packages) == []


def write(path: Path, text: str = "def test_x():\n    assert 1 + 1 == 2\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def good_tree(tmp_path) -> Path:
    """A small tests/ laid out as it should be."""
    for name in TOP_LEVEL:
        write(tmp_path / name, "")
    for folder in ("unit", "unit/attr", "integration", "browser"):
        write(tmp_path / folder / "__init__.py", "")
    write(tmp_path / "unit" / "attr" / "test_maths.py")
    write(tmp_path / "integration" / "test_app.py")
    write(
        tmp_path / "browser" / "test_page.py", "import pytest\npytestmark = pytest.mark.browser\n"
    )
    write(tmp_path / "browser" / "browser_kit.py", "")
    return tmp_path


def test_a_good_tree_passes(good_tree) -> None:
    assert layout_problems(good_tree, {"attr"}) == []


@pytest.mark.parametrize(
    ("path", "text", "problem"),
    [
        ("test_stray.py", None, "tests/test_stray.py sits directly in tests/"),
        ("helpers.py", "", "tests/helpers.py sits directly in tests/"),
        ("unit/attr/test_long.py", "x = 1\n" * 401, "has 401 lines, more than 400"),
        ("unit/test_maths.py", None, "not in tests/unit/<package>/"),
        ("unit/nosuch/test_x.py", None, "not in tests/unit/<package>/"),
        ("other/test_x.py", None, "is in other/"),
        ("integration/new/test_x.py", None, "its folder has no __init__.py"),
        (
            "unit/attr/test_page.py",
            "import pytest\npytestmark = pytest.mark.browser\n",
            "only they",
        ),
        ("browser/test_plain.py", None, "only they"),
    ],
)
def test_each_breach_is_named(good_tree, path: str, text: str | None, problem: str) -> None:
    if "__init__" not in problem:  # new folders are packages, unless that is the breach
        for folder in (good_tree / path).relative_to(good_tree).parents:
            if folder != Path("."):
                write(good_tree / folder / "__init__.py", "")
    write(good_tree / path, *(() if text is None else (text,)))
    problems = layout_problems(good_tree, {"attr"})
    assert len(problems) == 1 and problem in problems[0], problems


def test_exactly_400_lines_is_allowed(good_tree) -> None:
    write(good_tree / "unit" / "attr" / "test_long.py", "x = 1\n" * 400)
    assert layout_problems(good_tree, {"attr"}) == []
