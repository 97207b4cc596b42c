"""The Layers view without a browser: the page builds it beside the Explain tab and hands it the
Explain tab's text, target and foil; its handler runs on a tiny model through the scheduler;
failures are one escaped sentence; share links round-trip; downloads are written."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from tests.unit.render.hand_built_layers import direct_logits, lens
from whyword.tasks.layers import layers
from whyword.ui.share import decode_with_changes
from whyword.ui.views import layers_handlers as h

TEXT = "The capital of France is"


@pytest.fixture(autouse=True)
def _local(local_limits):
    """Local limits: the tiny models' folders may be loaded."""


def test_the_page_mounts_the_tab_and_its_handler_reads_the_explain_controls(page, tiny_paths):
    blocks = {getattr(b, "elem_id", None): b for b in page.blocks.values()}
    assert "ww-tab-layers" in blocks and "ww-ly-table" in blocks and "ww-ly-heads" in blocks
    def runs_the_view(f) -> bool:  # the "Look inside" click (the tab's select reads one more)
        outputs = {getattr(o, "elem_id", None) for o in f.outputs}
        return "ww-ly-table" in outputs and len(f.inputs) == 5

    fn = next(f for f in page.fns.values() if runs_the_view(f))
    ids = [b.elem_id for b in fn.inputs]
    assert ids[:3] == ["ww-text", "ww-target", "ww-foil"]  # the Explain tab's own controls
    out = fn.fn(TEXT, "", " London", tiny_paths["gpt2"], 3)
    status, table = out[0], out[1]
    assert "first reaches the top 3" in status or "never reaches the top 3" in status
    assert table.count("<tr>") == 1 + 3 and "ww-ly-target" in table  # embeddings + 2 blocks
    shown_lens = out[-2]
    assert shown_lens.foil_id is not None and len(shown_lens.rows[0].top) == 3
    assert all(r.foil_rank is not None for r in shown_lens.rows)


def test_the_handler_agrees_with_the_library(tiny_paths):
    from whyword.serve.scheduler import scheduler

    req = h.Request(TEXT, "", "", tiny_paths["gpt2"], 4)
    calls = len(scheduler().batch_sizes)
    shown = h.run(req)
    assert len(scheduler().batch_sizes) == calls + 1  # one job, through the scheduler's lanes
    assert shown.lens is not None and shown.request == req
    direct = layers(TEXT, k=4, model=tiny_paths["gpt2"])
    assert shown.lens.target_id == direct.target_id
    assert [r.target_rank for r in shown.lens.rows] == [r.target_rank for r in direct.rows]
    assert shown.heads is not None and shown.note == "" and shown.head_choices
    assert shown.lens.components.ablations, "the page's lens carries DLA and its check"


def test_a_picked_head_shows_its_attention_from_the_read_token(tiny_paths):
    """The head's numbers, then its attention row: the library's own, through the scheduler."""
    import whyword as ww
    from whyword.serve.scheduler import scheduler

    req = h.Request(TEXT, "", "", tiny_paths["gpt2"], 4)
    shown = h.run(req)
    layer_head = shown.head_choices[0][1]  # the top head by |DLA|: "layer.head"
    layer, head = (int(x) for x in layer_head.split("."))
    calls = len(scheduler().batch_sizes)
    html = h.head_attention(shown.lens, req, layer_head)
    assert len(scheduler().batch_sizes) == calls + 1  # one job, through the scheduler
    seen = ww.attention(TEXT, layer, head, model=tiny_paths["gpt2"])
    assert f"L{layer}.H{head} moved most from" in html and "DLA" in html
    assert html.count("attention ") >= len(seen.tokens)  # a titled chip per token
    top = max(range(len(seen.tokens)), key=lambda i: seen.moved[i])
    assert f"attention {100 * seen.weights[top]:.0f} %" in html
    assert h.head_attention(shown.lens, req, "99.0") == ""  # not a head of this model
    assert h.head_attention(None, req, layer_head) == ""


@pytest.mark.parametrize(
    ("text", "model", "says"),
    [
        ("   ", "default", "Type a text in the Explain tab first"),
        (TEXT, "no/such-<b>model", "."),
        ("word " * 4000, "tiny", "tokens"),  # over the server's token budget
    ],
)
def test_a_failure_is_one_escaped_sentence(text, model, says, tiny_paths):
    shown = h.run(h.Request(text, "", "", tiny_paths["gpt2"] if model == "tiny" else model))
    assert shown.lens is None and shown.table == "" and shown.heads is None
    assert shown.status.startswith("⚠️ ") and says in shown.status
    assert "<b>" not in shown.status and "Traceback" not in shown.status
    assert "\n" not in shown.status  # one line, the library's own words
    assert shown.link.startswith("?tab=layers")  # the link still says what was asked


def test_share_link_round_trips_and_the_explain_view_leaves_it_alone():
    req = h.Request("Paris & <b>co</b>", "id:7042", " London", "tiny/x", 7)
    params = dict(parse_qsl(h.share_link(req)[1:]))
    assert params["tab"] == "layers" and params["layers_text"] == req.text
    assert h.from_params(params) == req
    assert h.from_params({"layers_text": "x"}) is None  # not this tab's link
    odd = h.from_params({"tab": "layers", "layers_text": "x", "layers_k": "999"})
    assert odd.k == h.MAX_K and odd.model == "default"
    assert decode_with_changes(params)[1] == ()  # no "not a WhyWord setting" notice


def test_picking_a_head_and_the_downloads():
    x = lens(components=direct_logits())
    assert "DLA +2.5000" in h.pick_head(x, "3.1:99") and h.pick_head(x, "9.9") == ""
    assert h.pick_head(lens(), "3.1") == ""  # no components: nothing to show
    assert "ww-ly-attention" in h.pick_head(x, "3.1")  # room for the attention strip
    paths = [Path(p) for p in h.export_files(x)]
    assert sorted(p.suffix for p in paths) == [".csv", ".csv", ".json"]
    assert all(p.name.startswith("whyword-layers-the-capital") for p in paths)
    lens_csv = next(p for p in paths if p.suffix == ".csv" and "components" not in p.name)
    rows = list(csv.DictReader(io.StringIO(lens_csv.read_text().split("\n", 1)[1])))
    assert len(rows) == 4
    assert len(h.export_files(lens())) == 2  # no components: the lens and the JSON
    with pytest.raises(Exception, match="Run the Layers view first"):
        h.export_files(None)
