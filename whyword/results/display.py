"""How a result shows itself in a notebook, without results importing render.

Results sit below `render/` (docs/architecture.md), so a result cannot call the renderer
itself. Instead each displayable result names its kind (`display_as`) and `render/notebook.py`,
imported by `whyword/__init__.py`, registers one HTML function per kind in `DISPLAYS`. Since
importing any `whyword.*` module first runs `whyword/__init__.py`, a result always finds its
renderer; Jupyter calls `_repr_html_`, a user calls `.show(...)` for options.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import ClassVar

from whyword.errors import InputError
from whyword.runtime.registry import Registry

DISPLAYS: Registry[Callable[..., str]] = Registry("display")  # kind → HTML function


class Displayable:
    """Mixin of a frozen result: `_repr_html_` for Jupyter and `show(**options)`."""

    display_as: ClassVar[str]  # the key of this result's renderer in DISPLAYS

    def _repr_html_(self) -> str | None:
        """Self-contained HTML (inline styles, no scripts, no fetches); None if no renderer
        is registered, so Jupyter falls back to the plain repr."""
        render = DISPLAYS.get(self.display_as)
        return None if render is None else render(self)

    def show(self, **options) -> str | None:
        """Draw this result with options (`level="word"`, `methods=[...]`, … — each result's
        are listed in docs/guide/notebooks.md). In a Jupyter kernel the HTML is displayed and
        None returned; elsewhere the HTML is returned."""
        html = self.html(**options)
        shell = _kernel_shell()
        if shell is None:
            return html
        from IPython.display import HTML, display

        display(HTML(html))
        return None

    def html(self, **options) -> str:
        """The HTML `show(**options)` displays."""
        render = DISPLAYS.find(self.display_as)
        accepted = [p for p in inspect.signature(render).parameters][1:]
        unknown = [k for k in options if k not in accepted]
        if unknown:
            raise InputError(
                f"{type(self).__name__}.show() has no option {', '.join(map(repr, unknown))}; "
                f"it takes: {', '.join(accepted)}."
            )
        return render(self, **options)


def _kernel_shell():
    """The running Jupyter kernel's shell, or None (plain Python, terminal IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return shell if getattr(shell, "kernel", None) is not None else None
