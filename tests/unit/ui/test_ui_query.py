"""The page's controls come from one definition (whyword/ui/query.py): the Query's fields, their
widgets and the share links."""

from __future__ import annotations

from dataclasses import fields

import pytest

pytest.importorskip("gradio")

from whyword.models.limits import current_limits  # noqa: E402
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


# --- one definition: every control is in the share link, and no module lists them again ------

TRICKY = 'Ünïcode & "q" <b>x</b> [MASK] #a?b=c, d'  # what a link must carry unchanged


def other_value(control):
    """A value of `control` that is not its default and that its widget can show."""
    from whyword.attr import METHODS
    from whyword.ui import params

    kind, default = control.kind, control.default
    if kind is params.FLAG:
        return not default
    if kind.choices:
        return next(c for c in kind.choices if c != default)
    if kind is params.METHOD_LIST:
        return tuple(m for m in reversed(METHODS) if m not in default)[:2]
    if control.span is not None:
        low, high = control.span
        value = type(default)(low + (high - low) * 0.3)
        return value if value != default else type(default)(high)
    if kind in (params.TEXT, params.NAME):
        return TRICKY
    raise AssertionError(f"teach this test a value for the kind of {control.key}")


def test_every_control_round_trips_through_the_share_link_alone():
    from urllib.parse import parse_qsl

    from whyword.ui.share import decode_with_changes, encode

    for control in CONTROLS:
        value = other_value(control)
        assert value != control.default, control.key
        query = Query().with_(**{control.key: value})
        link = encode(query)
        assert f"{control.key}=" in link, (control.key, link)  # its URL name is its key
        back, changes = decode_with_changes(dict(parse_qsl(link, keep_blank_values=True)))
        assert changes == (), (control.key, changes)
        assert getattr(back, control.key) == value and back == query, control.key


def test_every_control_at_once_and_the_defaults_stay_out_of_the_link():
    from urllib.parse import parse_qsl

    from whyword.ui.share import decode, encode

    changed = Query(**{c.key: other_value(c) for c in CONTROLS})
    assert all(getattr(changed, c.key) != c.default for c in CONTROLS)
    assert decode(dict(parse_qsl(encode(changed), keep_blank_values=True))) == changed
    plain = dict(parse_qsl(encode(Query()), keep_blank_values=True))
    assert set(plain) == {c.key for c in CONTROLS if c.always}  # the view's identity only
    assert decode(plain) == Query()


def test_the_query_is_the_controls_definition():
    from whyword.ui import share
    from whyword.ui.query import DEFAULT

    assert [f.name for f in fields(Query)] == [c.key for c in CONTROLS]
    assert all(getattr(DEFAULT, c.key) == c.default for c in CONTROLS)
    assert set(BY_KEY) == share.KNOWN_KEYS and share.Query is Query


def test_no_second_list_of_the_controls():
    """Outside query.py no UI module lists three or more controls in one literal (a tuple,
    list, set or dict of only their keys), and share.py names none: they follow CONTROLS."""
    import ast
    from pathlib import Path

    import whyword.ui

    keys = set(BY_KEY)
    package = Path(whyword.ui.__file__).parent
    for path in sorted(package.rglob("*.py")):
        if path.name == "query.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            items = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", None)
            if not isinstance(node, ast.Tuple | ast.List | ast.Set | ast.Dict) or not items:
                continue
            words = {i.value for i in items if isinstance(i, ast.Constant)}
            named = words & keys  # (the examples' columns text, target, foil, note are data)
            assert len(named) < 3 or words - keys, f"{path.name}:{node.lineno} lists {named}"
        if path.name == "share.py":
            named = {
                n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in keys
            }
            assert not named, f"share.py names controls {sorted(named)}"


def test_bounds_follow_the_definition_and_the_servers_limits():
    from dataclasses import replace

    from whyword.ui.query import Bounds, bounds_for

    assert Bounds().k == BY_KEY["k"].span and Bounds(k=(1, 5)).k == (1, 5)
    with pytest.raises(ValueError, match="no numeric control called text"):
        Bounds(text=(0, 1))
    limits = replace(current_limits(), max_k=7, max_steps=64, max_samples=3)
    bounds = bounds_for(limits)
    assert (bounds.k, bounds.steps, bounds.max_steps, bounds.samples) == (
        (1, 7), (4, 64), (0, 64), (1, 3)
    )  # fmt: skip
    assert bounds.noise == BY_KEY["noise"].span  # no server limit on it
    assert make("k", limits).maximum == 7


def test_the_definition_and_the_links_load_without_gradio():
    import subprocess
    import sys

    code = "import sys, whyword.ui.share; print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # widgets import it only when the page is built
