"""The page's controls come from one definition (whyword/ui/query.py) kept in step with Query."""

from __future__ import annotations

from dataclasses import fields

import pytest

pytest.importorskip("gradio")

from whyword.limits import current_limits  # noqa: E402
from whyword.ui.query import BY_KEY, CONTROLS, Controls, make  # noqa: E402
from whyword.ui.share import Query  # noqa: E402


def test_every_query_field_has_exactly_one_control():
    keys = [control.key for control in CONTROLS]
    assert sorted(keys) == sorted(f.name for f in fields(Query))
    assert len(keys) == len(set(keys))


def test_controls_read_their_defaults_back_as_the_default_query():
    limits = current_limits()
    widgets = {control.key: make(control.key, limits) for control in CONTROLS}
    controls = Controls(widgets)
    values = {widget: widget.value for widget in widgets.values()}
    values[widgets["target"]] = None  # a dropdown with no choices yet
    read = controls.query(values)
    assert read == Query(model=limits.models[0])


def test_a_share_link_sets_its_keys_only_and_never_the_result_pickers():
    limits = current_limits()
    controls = Controls({control.key: make(control.key, limits) for control in CONTROLS})
    shown = controls.values(Query(k=3, target="id:5"), keys=["k", "target", "nonsense"])
    assert shown == {controls.k: 3}
    assert not BY_KEY["target"].from_link and BY_KEY["k"].from_link


def test_controls_refuse_a_missing_widget():
    with pytest.raises(ValueError, match="without a widget"):
        Controls({})


def test_the_numbers_toggle_is_kept_in_the_share_link():
    from whyword.ui.share import decode, encode

    assert "numbers" not in encode(Query(text="x"))  # the default stays out of the link
    link = encode(Query(text="x", numbers=True))
    assert "numbers=1" in link and decode(dict(p.split("=") for p in link.split("&"))).numbers
    assert decode({"text": "x", "numbers": "0"}).numbers is False
