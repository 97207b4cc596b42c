"""One definition per control of the Explain view: its `Query` field (which is also its URL name
in a share link), where it sits, its widget and how the widget's value is read back.

The defaults are `Query()`'s (share.py, which takes them from the library's options) and the
ranges the page's `Bounds` (share.py, which also fits a link's values to them), so adding a
control is a `Query` field plus one `Control` here; `tests/test_ui_query.py` checks the two
stay in step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from whyword.attr import METHODS
from whyword.limits import Limits
from whyword.options import BASELINES
from whyword.ui.share import LEVELS, NORMALISATIONS, PAGE_METHODS, Bounds, Query, page_bounds

SHORT_LABELS = {
    "saliency": "Saliency",
    "input_x_gradient": "Input × gradient",
    "integrated_gradients": "Integrated gradients",
    "smoothgrad": "SmoothGrad",
    "occlusion": "Occlusion",
    "attnlrp": "AttnLRP",
}
DEFAULT = Query()


def bounds_for(limits: Limits) -> Bounds:
    """The sliders' ranges under this server's limits (a share link is fitted to them)."""
    return page_bounds(limits.max_k, limits.max_steps, limits.max_samples)


@dataclass(frozen=True)
class Control:
    """One control: `key` is the Query field and URL name; `place` is where the view puts it
    ("text": beside the text, "sidebar", "advanced": the sidebar's accordion, "pickers": by
    the chart, "heatmap": over the heatmap); `make` builds the widget; `read` turns its value into the Query's."""

    key: str
    place: str
    make: Callable[[Limits, Bounds], gr.components.Component]
    read: Callable[[Any], Any]
    from_link: bool = True  # a share link sets it (target, foil, mask come with the result)


def _model(limits: Limits, bounds: Bounds) -> gr.Dropdown:
    return gr.Dropdown(
        choices=[("SmolLM2-135M (default)", "default")]
        + [(m, m) for m in limits.models if m != "default"],
        value=limits.models[0],  # the first listed (`whyword app --model`); "default" otherwise
        label="Model" + (" (or type a Hub id / folder)" if limits.any_model else ""),
        allow_custom_value=limits.any_model,
        elem_id="ww-model",
    )


def _slider(key: str, step: float, label: str, elem_id: str | None = None):
    def make(limits: Limits, bounds: Bounds) -> gr.Slider:
        low, high = getattr(bounds, key)
        return gr.Slider(
            low, high, value=getattr(DEFAULT, key), step=step, label=label, elem_id=elem_id
        )

    return make


def _text(limits: Limits, bounds: Bounds) -> gr.Textbox:
    return gr.Textbox(
        label="Text (press Enter to explain)",
        placeholder="The capital of France is",
        lines=1,
        max_lines=1,
        elem_id="ww-text",
        autofocus=True,
        scale=6,
    )


def _methods(limits: Limits, bounds: Bounds) -> gr.CheckboxGroup:
    return gr.CheckboxGroup(
        choices=[(SHORT_LABELS.get(name, m.label), name) for name, m in METHODS.items()],
        value=list(PAGE_METHODS),
        label="Attribution methods",
        elem_id="ww-methods",
    )


def _target(limits: Limits, bounds: Bounds) -> gr.Dropdown:
    return gr.Dropdown(
        choices=[], value=None, label="Target", allow_custom_value=True, elem_id="ww-target"
    )


def _foil(limits: Limits, bounds: Bounds) -> gr.Dropdown:
    return gr.Dropdown(
        choices=[("— no foil —", "")],
        value="",
        label="Foil: compare the target with this word",
        allow_custom_value=True,
        elem_id="ww-foil",
    )


def _mask(limits: Limits, bounds: Bounds) -> gr.Dropdown:
    return gr.Dropdown(
        choices=[("[MASK] 1", 0)], value=0, label="Which [MASK]", visible=False, elem_id="ww-mask"
    )


def _radio(key: str, choices: Any, label: str, elem_id: str | None = None, info: str | None = None):
    def make(limits: Limits, bounds: Bounds) -> gr.Radio:
        value = getattr(DEFAULT, key)
        return gr.Radio(choices, value=value, label=label, info=info, elem_id=elem_id)

    return make


def _checkbox(key: str, label: str, elem_id: str | None = None):
    def make(limits: Limits, bounds: Bounds) -> gr.Checkbox:
        return gr.Checkbox(getattr(DEFAULT, key), label=label, elem_id=elem_id)

    return make


CONTROLS: tuple[Control, ...] = (
    Control("text", "text", _text, lambda v: v or ""),
    Control("model", "sidebar", _model, lambda v: (v or "default").strip() or "default"),
    Control("k", "sidebar", _slider("k", 1, "Top-k", "ww-k"), int),
    Control("methods", "sidebar", _methods, lambda v: tuple(v or ())),
    Control("steps", "sidebar", _slider("steps", 4, "IG steps", "ww-steps"), int),
    Control(
        "baseline",
        "sidebar",
        _radio("baseline", list(BASELINES), "IG / occlusion baseline", "ww-baseline"),
        lambda v: v or DEFAULT.baseline,
    ),
    Control(
        "max_steps",
        "advanced",
        _slider(
            "max_steps",
            16,
            "IG refinement: up to this many steps until the error ≤ 5 % (≤ IG steps: off)",
            "ww-max-steps",
        ),
        int,
    ),
    Control("samples", "advanced", _slider("samples", 1, "SmoothGrad samples"), int),
    Control(
        "noise", "advanced", _slider("noise", 0.05, "SmoothGrad noise (× embedding stdev)"), float
    ),
    Control(
        "special",
        "advanced",
        _checkbox("special", "Include special tokens in the colour scale"),
        bool,
    ),
    Control(
        "normalise",
        "advanced",
        _radio("normalise", list(NORMALISATIONS), "Colour scale (normalisation)"),
        lambda v: v or DEFAULT.normalise,
    ),
    Control(
        "level",
        "advanced",
        _radio(
            "level",
            [("tokens", "token"), ("words", "word")],
            "Heatmap chips: tokens or whole words",
            "ww-level",
            "Words add up their tokens' scores (saliency: the L2 norm).",
        ),
        lambda v: v if v in LEVELS else DEFAULT.level,
    ),
    Control(
        "numbers",
        "heatmap",
        _checkbox("numbers", "Numbers on the words (each one's score)", "ww-numbers"),
        bool,
    ),
    Control("presenter", "text", _checkbox("presenter", "Presenter mode", "ww-presenter"), bool),
    Control("target", "pickers", _target, lambda v: v or "", from_link=False),
    Control("foil", "pickers", _foil, lambda v: v or "", from_link=False),
    Control("mask", "pickers", _mask, lambda v: int(v or 0), from_link=False),
)
BY_KEY = {control.key: control for control in CONTROLS}


def make(key: str, limits: Limits) -> gr.components.Component:
    """The widget of control `key`, with its default value (the Query's) set."""
    return BY_KEY[key].make(limits, bounds_for(limits))


class Controls:
    """The widgets a `Query` is read from (and written back to from a share link), by key."""

    def __init__(self, widgets: dict[str, gr.components.Component]):
        missing = set(BY_KEY) - set(widgets)
        if missing:
            raise ValueError(f"controls without a widget: {', '.join(sorted(missing))}")
        self.widgets = dict(widgets)

    def __getattr__(self, key: str) -> gr.components.Component:
        widgets = self.__dict__.get("widgets", {})
        if key in widgets:
            return widgets[key]
        raise AttributeError(key)

    def all(self) -> list[gr.components.Component]:
        return [self.widgets[control.key] for control in CONTROLS]

    def query(self, data: dict) -> Query:
        return Query(**{c.key: c.read(data[self.widgets[c.key]]) for c in CONTROLS})

    def values(self, query: Query, keys: Iterable[str] | None = None) -> dict:
        """Updates that show `query` in the controls; only `keys` (a share link's) if given."""
        shown = {c.key for c in CONTROLS if c.from_link}
        wanted = shown if keys is None else set(keys) & shown
        data = query.to_dict()
        return {self.widgets[key]: data[key] for key in wanted}
