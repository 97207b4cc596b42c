"""The Sequence view's handlers, without a browser: start, click-append, undo, live re-warp,
auto-complete, explain the steps, pick a row, share link round trip, one-sentence failures."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from whyword.tasks.stepper import STORE
from whyword.ui import sequence_session as ss

TEXT = "The capital of France is"
WARP = (1.0, 0, 1.0)


@pytest.fixture
def model(tiny_paths, local_mode) -> str:
    return tiny_paths["gpt2"]


def started(model) -> ss.SeqView:
    view = ss.start(ss.SeqState(), TEXT, model, *WARP)
    assert view.status == "", view.status
    return view


def bar_ids(figure, trace: int = 0) -> list[int]:
    return list(figure.data[trace].customdata)


def test_start_shows_strip_chart_and_text(model) -> None:
    view = started(model)
    assert view.strip.count('class="ww-seq-pos"') == len(view.state.table.rows)
    assert "capital" in view.text_so_far and len(view.step_figure.data) == 2  # raw and warped
    assert view.state.session.appended == ()


def test_click_appends_one_token_and_undo_restores(model) -> None:
    view = started(model)
    first = view.step_figure
    token = bar_ids(first)[2]
    misses = STORE.misses
    after = ss.append(view.state, f"{token}:123", *WARP)
    assert after.state.session.appended == (token,) and after.status == ""
    assert STORE.misses == misses + 1  # one (one-token) forward
    assert "<td" in after.table
    back = ss.undo(after.state, *WARP)
    assert back.state.session.appended == ()
    assert back.step_figure.data[0].x == first.data[0].x


def test_sliders_rewarp_live(model) -> None:
    view = started(model)
    misses = STORE.misses
    hot = ss.rewarp(view.state, 2.5, 3, 1.0)
    assert STORE.misses == misses  # no model call: the cached logits are re-warped
    warped = hot.step_figure.data[1]
    assert list(warped.text[3:]) == ["✂ cut"] * (len(warped.text) - 3)
    assert hot.step_figure.data[0].x == view.step_figure.data[0].x  # raw bars unchanged


def test_auto_complete_explain_and_pick_a_row(model) -> None:
    view = ss.auto(started(model).state, 5, "sample", *WARP, 1)
    assert len(view.state.session.appended) == 5 and view.status == ""
    explained = ss.explain_steps(view.state, "saliency")
    assert explained.status == "" and "Step 5" in explained.row_heatmap
    z = explained.steps_figure.data[0].z
    assert len(z) == 5 and z[0][-1] is None  # the last source token is out of step 1's context
    picked = ss.pick_step(explained.state, "0:99")
    assert "Step 1" in picked.row_heatmap


def test_position_click_shows_its_top_k(model) -> None:
    view = started(model)
    picked = ss.pick_position(view.state, "2:5")
    assert "Position 2" in picked.position_figure.layout.title.text
    assert "outline" in picked.strip
    first = ss.pick_position(view.state, "0:5")
    assert "first token" in first.status


def test_share_link_round_trip(model, tmp_path) -> None:
    view = ss.auto(started(model).state, 3, "greedy", *WARP, 0)
    query = ss.share_query(view.state, TEXT, model, 0.7, 5, 0.9, 4)
    params = dict(parse_qsl(query))
    values = ss.read_link(params)
    assert (values.temperature, values.top_k, values.top_p, values.seed) == (0.7, 5, 0.9, 4)
    again = ss.from_link(values, model)
    assert again.state.session.ids == view.state.session.ids
    csv_path, json_path = ss.export_files(again.state, str(tmp_path))
    data = json.loads(Path(json_path).read_text())
    assert len(data["steps"]) == 3 and "warped" in data["scores_from"]
    assert Path(csv_path).read_text().startswith("step,token_id,token,log_prob")
    assert ss.read_link({"seq_text": "x"}) is None  # another tab's link
    bad = ss.read_link({"tab": "sequence", "seq_text": TEXT, "seq_ids": "5,999999"})
    assert "vocabulary" in ss.from_link(bad, model).status
    assert ss.read_link({"tab": "sequence", "seq_temperature": "nan"}).temperature == 1.0


def test_failures_are_one_sentence(model, tiny_paths) -> None:
    assert "Press Start" in ss.append(ss.SeqState(), "3", *WARP).status
    assert "temperature" in ss.rewarp(started(model).state, 0.0, 0, 1.0).status
    masked = ss.start(ss.SeqState(), TEXT, tiny_paths["bert"], *WARP)
    assert "masked" in masked.status and "\n" not in masked.status
    empty = ss.explain_steps(started(model).state, "saliency")
    assert "no steps" in empty.status
    assert "Nothing to undo" in ss.undo(started(model).state, *WARP).status


def test_token_text_is_escaped_once(model) -> None:
    view = ss.start(ss.SeqState(), "café <script>alert(1)</script> &amp;", model, *WARP)
    for html in (view.strip, view.text_so_far):
        assert "<script>" not in html and "&lt;" in html and "script" in html
    assert "&amp;amp;" in view.text_so_far  # the typed "&amp;" shown as typed
    labels = list(view.step_figure.layout.yaxis.ticktext)
    assert not any("<" in label for label in labels)
