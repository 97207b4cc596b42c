"""The widgets of the page's controls. query.py says which control gets which; each is a `Make`:
(control, limits, bounds) -> a gradio component showing the control's default (`control.default`,
its range `bounds.<key>`). gradio is imported when a widget is built, so query.py, share.py and
the handlers import without it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from whyword.attr import METHODS
from whyword.models.limits import Limits

Make = Callable[[Any, Limits, Any], Any]  # (Control, Limits, Bounds) -> gr.components.Component


def _gr() -> Any:
    import gradio

    return gradio


def model_menu(control: Any, limits: Limits, bounds: Any) -> Any:
    return _gr().Dropdown(
        choices=[("SmolLM2-135M (default)", "default")]
        + [(m, m) for m in limits.models if m != "default"],
        value=limits.models[0],  # the first listed (`whyword app --model`); "default" otherwise
        label="Model" + (" (or type a Hub id / folder)" if limits.any_model else ""),
        allow_custom_value=limits.any_model,
        elem_id="ww-model",
    )


def text_box(control: Any, limits: Limits, bounds: Any) -> Any:
    return _gr().Textbox(
        label="Text (press Enter to explain)",
        placeholder="The capital of France is",
        lines=1,
        max_lines=1,
        elem_id="ww-text",
        autofocus=True,
        scale=6,
    )


def method_boxes(control: Any, limits: Limits, bounds: Any) -> Any:
    return _gr().CheckboxGroup(
        choices=[(m.short_label, name) for name, m in METHODS.items()],
        value=list(control.default),
        label="Attribution methods",
        elem_id="ww-methods",
    )


def target_menu(control: Any, limits: Limits, bounds: Any) -> Any:
    return _gr().Dropdown(
        choices=[], value=None, label="Target", allow_custom_value=True, elem_id="ww-target"
    )


def foil_menu(control: Any, limits: Limits, bounds: Any) -> Any:
    return _gr().Dropdown(
        choices=[("— no foil —", "")],
        value="",
        label="Foil: compare the target with this word",
        allow_custom_value=True,
        elem_id="ww-foil",
    )


def mask_menu(control: Any, limits: Limits, bounds: Any) -> Any:
    return _gr().Dropdown(
        choices=[("[MASK] 1", 0)], value=0, label="Which [MASK]", visible=False, elem_id="ww-mask"
    )


def slider(step: float, label: str, elem_id: str | None = None) -> Make:
    def make(control: Any, limits: Limits, bounds: Any) -> Any:
        low, high = getattr(bounds, control.key)
        return _gr().Slider(
            low, high, value=control.default, step=step, label=label, elem_id=elem_id
        )

    return make


def radio(choices: Any, label: str, elem_id: str | None = None, info: str | None = None) -> Make:
    def make(control: Any, limits: Limits, bounds: Any) -> Any:
        return _gr().Radio(choices, value=control.default, label=label, info=info, elem_id=elem_id)

    return make


def checkbox(label: str, elem_id: str | None = None) -> Make:
    def make(control: Any, limits: Limits, bounds: Any) -> Any:
        return _gr().Checkbox(control.default, label=label, elem_id=elem_id)

    return make
