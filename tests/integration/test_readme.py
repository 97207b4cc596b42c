"""The README a visitor reads first: its API taste uses only public names, and its links land.

The rest of the documentation is built by `mkdocs build --strict` (scripts/test.sh), which fails
on a broken link or a missing page; the README is outside that site, so it is checked here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import whyword

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def python_blocks() -> list[str]:
    return [code for lang, code in FENCE.findall(README) if lang == "python"]


def names_used(tree: ast.Module) -> list[str]:
    """Every whyword name the code reaches: `ww.X` for `import whyword as ww` and
    `from whyword import X`; any other import of whyword (a module path) is refused."""
    aliases, used = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                assert a.name != "whyword" or a.asname, "import whyword as ww"
                assert not a.name.startswith("whyword."), f"a module path: {a.name}"
                if a.name == "whyword":
                    aliases.add(a.asname)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("whyword"):
            assert node.module == "whyword", f"a module path: from {node.module} import ..."
            used += [a.name for a in node.names]
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            used.append(node.attr)
    return used


def test_the_readme_has_a_short_api_taste() -> None:
    blocks = python_blocks()
    assert blocks, "the README shows the API in a ```python block"
    assert len(README.splitlines()) <= 250  # what a visitor reads first; the rest is in docs/


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_each_python_snippet_compiles_and_uses_only_public_names(index: int) -> None:
    code = python_blocks()[index]
    tree = ast.parse(code)  # a syntax error fails here
    compile(tree, f"README.md python block {index}", "exec")
    used = names_used(tree)
    assert used, "the snippet uses whyword"
    missing = sorted(set(used) - set(whyword.__all__))
    assert not missing, f"not in whyword.__all__: {missing}"
    for name in used:
        assert hasattr(whyword, name), name


def test_a_snippet_with_a_module_path_is_refused() -> None:
    """The check above can fail: a deep import or a private name is caught."""
    with pytest.raises(AssertionError, match="module path"):
        names_used(ast.parse("from whyword.models.encoding import encode"))
    used = names_used(ast.parse("import whyword as ww\nww.explain('x')\nww.attr.MethodOutput"))
    assert set(used) - set(whyword.__all__) == {"attr"}


def test_every_relative_link_of_the_readme_exists() -> None:
    links = [t for t in LINK.findall(README) if not re.match(r"[a-z]+:", t)]
    assert any(t.startswith("docs/") for t in links), "the README links into the docs"
    for target in links:
        path, _, anchor = target.partition("#")
        assert (ROOT / path).exists(), f"README links to a missing file: {target}"
        if anchor and path.endswith(".md"):
            text = (ROOT / path).read_text(encoding="utf-8")
            slugs = {slug(h) for h in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}
            assert anchor in slugs, f"README links to a missing heading: {target}"


def slug(heading: str) -> str:
    """The anchor MkDocs (toc) and GitHub give a heading: lower case, punctuation dropped."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return re.sub(r"[\s]+", "-", text)
