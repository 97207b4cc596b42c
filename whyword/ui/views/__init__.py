"""The page's views, one tab each.

A view is a module with `TITLE` (the tab's label), `TAB_ID` (its id in the page and in the share
link's `tab=`), and `build(ctx: ViewContext) -> None`, which makes the view's components inside
the current tab and wires their events. Views share only what `ViewContext` holds; each keeps its
own state and its own URL parameters (prefixed with its `TAB_ID`), so a new view is one module
plus one line in `EXTRA_VIEWS`. The Explain view's `build` returns its controls; their text,
target and foil are in the other views' `ViewContext`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class ViewContext:
    """What every view may read: the page's shared controls."""

    model: Any  # the sidebar's model dropdown (a gradio component): every view explains this model
    demo: Any  # the page's gr.Blocks, for `demo.load` events that read the share link
    settings: dict[str, Any] = field(default_factory=dict)  # the sidebar's widgets by Query key
    limits: Any = None  # this server's whyword.models.limits.Limits
    # The Explain view's text box and target / foil pickers (None while it builds itself): a
    # view that reads them follows what the class explains (a bar click there sets the target,
    # "id:<token id>", or a word; "" = the top-1 / no foil).
    text: Any = None
    target: Any = None
    foil: Any = None
    tab: Any = None  # this view's own gr.Tab, for its `select` event (opening the tab)


# Module names under whyword.ui.views, in tab order after the "Explain" view (views/explain.py,
# which app.py mounts first).
EXTRA_VIEWS: tuple[str, ...] = ("sequence", "evidence", "layers", "chat")


def extra_views() -> list[ModuleType]:
    """The extra views' modules, each checked for the contract above."""
    modules = [importlib.import_module(f"whyword.ui.views.{name}") for name in EXTRA_VIEWS]
    for module in modules:
        for attribute in ("TITLE", "TAB_ID", "build"):
            if not hasattr(module, attribute):
                raise TypeError(f"view {module.__name__} has no {attribute}")
    return modules
