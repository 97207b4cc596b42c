"""The Explain tab's "What would change the answer?" panel without a browser: the page mounts
its button under the heatmap, reading the Explain tab's own controls; its handler runs on a tiny
model through the scheduler, verifies an edit at every position and sets each method's
counterfactual agreement on the heatmap's explanation (state and trust panel); failures are one
escaped sentence that leave the rest alone; the gradio_client endpoint returns JSON."""

from __future__ import annotations

import json

import pytest

from tests.unit.ui.handlers_kit import XSS
from whyword.results.edit_agreement import edit_effects
from whyword.results.ranks import spearman
from whyword.serve.backend import WHAT_IF_BUDGET
from whyword.ui.session import previous_explanation
from whyword.ui.views import counterfactuals_handlers as h

TEXT = "The capital of France is"


@pytest.fixture(autouse=True)
def _local(local_limits):
    """Local limits: the tiny models' folders may be loaded."""


def test_the_button_sits_under_the_heatmap_and_reads_the_explain_controls(page):
    blocks = {getattr(b, "elem_id", None): b for b in page.blocks.values()}
    assert "ww-cf-run" in blocks and "ww-cf-panel" in blocks
    fn = next(f for f in page.fns.values() if [b.elem_id for b in f.outputs][:1] == ["ww-cf-panel"])
    assert [b.elem_id for b in fn.inputs][:4] == ["ww-text", "ww-target", "ww-foil", "ww-model"]
    assert [b.elem_id for b in fn.outputs][1] == "ww-trust"  # the agreement shows there
    assert any(f.api_name == "counterfactuals" for f in page.fns.values())  # gr.api


def test_the_handler_runs_through_the_scheduler_and_sets_the_agreement(gpt2_view, tiny_paths):
    from whyword.serve.scheduler import scheduler

    outcome, state = gpt2_view
    calls = len(scheduler().batch_sizes)
    shown = h.run(h.Request(TEXT, "", "", tiny_paths["gpt2"]), state)
    assert len(scheduler().batch_sizes) == calls + 1  # one job, through the scheduler's lanes
    hot = shown.result.hotflip
    editable = [i for i, t in enumerate(hot.subject.tokens) if not t.special]
    assert sorted(edit_effects(hot)) == editable  # every position verified, not only the top 5
    assert hot.forwards <= WHAT_IF_BUDGET
    assert "ww-cf-load" in shown.panel and "One word changed" in shown.panel
    assert "Do the scores match verified edits?" in shown.trust
    e = previous_explanation(shown.state)
    assert shown.state["query"] == state["query"]  # the rest of the state is kept
    effects = edit_effects(hot)
    for a in e.attributions:
        keep = [p for p in editable if p not in e.held]
        rho = spearman([abs(a.scores[p]) for p in keep], [effects[p] for p in keep])
        assert a.edit_agreement.positions == tuple(keep)
        assert (a.edit_agreement.rho is None) == (rho != rho)
        if a.edit_agreement.rho is not None:
            assert abs(a.edit_agreement.rho - rho) <= 1e-12  # the same arithmetic


def test_another_text_than_the_heatmap_gets_the_panel_but_no_agreement(gpt2_view, tiny_paths):
    _, state = gpt2_view
    shown = h.run(h.Request("The capital of Spain is", "", "", tiny_paths["gpt2"]), state)
    assert shown.result is not None and "agreement with these edits needs the heatmap" in shown.panel
    assert shown.trust is None and shown.state is None  # the heatmap's panel stays as it was


@pytest.mark.parametrize(
    ("text", "model", "says"),
    [
        ("   ", "tiny", "Type a sentence first"),
        (TEXT, f"no/such-{XSS}", "."),
        ("word " * 4000, "tiny", "tokens"),  # over the server's token budget
    ],
)
def test_a_failure_is_one_escaped_sentence(text, model, says, tiny_paths, gpt2_view):
    name = tiny_paths["gpt2"] if model == "tiny" else model
    shown = h.run(h.Request(text, "", "", name), gpt2_view[1])
    assert shown.result is None and shown.trust is None and shown.state is None
    assert shown.panel.startswith('<div class="ww-error') and says in shown.panel
    assert "<img" not in shown.panel and "Traceback" not in shown.panel
    assert "\n" not in shown.panel


def test_the_api_endpoint_returns_json(tiny_paths):
    from whyword.errors import WhyWordError
    from whyword.ui.api import api_counterfactuals

    data = api_counterfactuals(TEXT, tiny_paths["gpt2"], foil="")
    back = json.loads(json.dumps(data))
    assert back["hotflip"]["edits"] and back["hotflip"]["subject"]["text"] == TEXT
    assert (back["flip"] is None) == bool(back["flip_failed"])
    if back["flip"] is not None:
        assert back["flip"]["message"]
    with pytest.raises(WhyWordError, match="Type a sentence first"):
        api_counterfactuals(" ", tiny_paths["gpt2"])
