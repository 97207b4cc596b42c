"""Optional parts of WhyWord and the extra that installs each: imported only where they are used.

`require("app", "gradio")` returns the module, or raises `MissingExtraError` with one sentence
that names the pip command to run. The extras themselves are declared in pyproject.toml; a test
checks that every extra named here exists there.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from whyword.errors import MissingExtraError

# extra -> what it is for, in the words of the error message
EXTRAS: dict[str, str] = {
    "app": "the web page",
    "default-model": "the embedded default model",
    "serve": "the Ray Serve backend",
    "lrp": "AttnLRP",
    "notebook": "the demo notebook",
    "data": "reading or writing a dataset run's parquet files and datasets",
}

# Extras whose install is not the plain `pip install "whyword[EXTRA]"`.
# lxt declares heavy dependencies (bitsandbytes, open_clip_torch, torchvision) that WhyWord does
# not use and that can replace the installed torch; what it runs on (torch, transformers) is
# already there, so it goes in without them.
INSTALL: dict[str, str] = {"lrp": 'pip install --no-deps "lxt>=2.1,<2.2"'}


def install_command(extra: str) -> str:
    """The shell command that installs one extra."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; known: {', '.join(EXTRAS)}")
    return INSTALL.get(extra, f'pip install "whyword[{extra}]"')


def require(extra: str, module: str) -> ModuleType:
    """Import `module` (part of `extra`), or raise MissingExtraError naming the install command.

    Only a missing `module` itself (or a missing package inside it) becomes MissingExtraError;
    any other import failure propagates as is, so a broken install is not mistaken for a
    missing one.
    """
    command = install_command(extra)
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        missing = error.name or module
        if missing.split(".")[0] != module.split(".")[0]:
            raise
        raise MissingExtraError(
            f"{EXTRAS[extra].capitalize()} needs the optional package {missing.split('.')[0]}, "
            f"which is not installed: run {command}"
        ) from error
