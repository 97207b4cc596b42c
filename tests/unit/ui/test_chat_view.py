"""The Chat view without a browser, on a tiny Llama whose tokenizer has a chat template: the
page mounts the tab; its handler answers and explains through the scheduler's `call` and agrees
with the library; a new span reuses the reply; failures are one escaped sentence (a model
without a template gets the library's); share links round-trip; the download is the JSON."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from tests.tolerances import TINY_FP32, assert_close
from whyword.tasks.chat import chat
from whyword.ui.share import decode_with_changes
from whyword.ui.views import chat_handlers as h

SYSTEM, USER = "the cat.", "the dog? the mat."


@pytest.fixture(autouse=True)
def _local(local_limits):
    """Local limits: the tiny models' folders may be loaded."""


@pytest.fixture(scope="module")
def asked(tiny_chat_path) -> h.Request:
    return h.Request(SYSTEM, USER, tiny_chat_path, max_new_tokens=5)


@pytest.fixture
def shown(asked) -> h.Shown:
    return h.run(asked)


def test_the_page_mounts_the_tab_and_its_button_explains(page, tiny_chat_path):
    blocks = {getattr(b, "elem_id", None): b for b in page.blocks.values()}
    assert {"ww-tab-chat", "ww-chat-conversation", "ww-chat-bars", "ww-chat-span"} <= set(blocks)

    def explains(f) -> bool:  # the Explain button (the span box and the click do the same)
        outputs = {getattr(o, "elem_id", None) for o in f.outputs}
        return "ww-chat-conversation" in outputs and len(f.inputs) == 13

    fn = next(f for f in page.fns.values() if explains(f))
    ids = [b.elem_id for b in fn.inputs]
    assert ids[:3] == ["ww-model", "ww-chat-system", "ww-chat-user"]
    values = ["", "", "", ["saliency"], "message", 4, "greedy", 0, None, None]
    out = fn.fn(tiny_chat_path, SYSTEM, USER, *values)
    status, conversation = out[0], out[1]
    assert "Saliency" in status and "held" in status and "ww-error" not in status
    assert conversation.count('class="ww-chat-role"') == 3  # system, user, reply
    assert "chat template token" in conversation and "data-ww-reply" in conversation


def test_the_handler_agrees_with_the_library(asked, shown, tiny_chat_path):
    assert shown.explanation is not None and shown.request == asked
    mine = shown.explanation
    direct = chat(asked.messages(), model=tiny_chat_path, max_new_tokens=5)
    assert mine.chat.ids == direct.ids  # greedy: the same reply
    ref = direct.explain(methods=h.DEFAULT_METHODS, model=tiny_chat_path)
    assert (mine.start, mine.end) == (ref.start, ref.end)  # the whole answer by default
    assert_close(mine.value, ref.value, TINY_FP32, "F")
    for method in h.DEFAULT_METHODS:
        assert_close(mine.token_scores(method), ref.token_scores(method), TINY_FP32, method)
    bars = [u.score for u in mine.messages("saliency")]
    assert_close(list(shown.bars.data[0].x), [0.0 if b != b else b for b in bars], TINY_FP32)


def test_a_new_span_reuses_the_reply_in_one_call(asked, shown):
    from whyword.serve.scheduler import scheduler

    calls = len(scheduler().batch_sizes)
    moved = h.Request(**{**asked.__dict__, "span": "0:1", "level": "sentence"})
    again = h.run(moved, shown.explanation, asked)
    assert len(scheduler().batch_sizes) == calls + 1  # the explanation only, not the reply
    x = again.explanation
    assert x.chat is shown.explanation.chat  # the same reply, not made again
    assert x.start == x.chat.prompt_length and x.end == x.start + 1
    assert len(again.bars.data[0].y) == len(x.sentences("saliency"))
    other = h.reshow(x, again.request, "occlusion", "message")
    assert other.method == "occlusion" and len(other.bars.data[0].y) == len(x.chat.units)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"user": "  "}, h.EMPTY),
        ({"span": "<b>zz</b>"}, "is not in the reply"),
        ({"span": "3:99"}, "is not inside the reply"),
        ({"methods": ("evil",)}, "Choose methods"),
        ({"max_new_tokens": 65}, "from 1 to 64"),
        ({"model": "gpt2"}, "has no chat template"),
    ],
)
def test_a_failure_is_one_escaped_sentence(asked, change, says, tiny_paths):
    if change.get("model") == "gpt2":
        change = {"model": tiny_paths["gpt2"]}
    got = h.run(h.Request(**{**asked.__dict__, **change}))
    assert got.explanation is None and got.conversation == "" and got.bars is None
    assert got.status.startswith("⚠️ ") and says.replace("'", "&#x27;") in got.status
    assert "<b>" not in got.status and "Traceback" not in got.status and "\n" not in got.status
    assert got.link.startswith("?tab=chat")


def test_a_span_is_the_cli_s_first_end_or_a_phrase():
    assert h.parse_span("2:5") == (2, 5) and h.parse_span(" 0 : 1 ") == (0, 1)  # END excluded
    assert h.parse_span("") is None and h.parse_span("  ") is None  # the whole answer
    assert h.parse_span(" Paris 2:5") == " Paris 2:5"  # a phrase, as typed


def test_share_link_round_trips_and_the_explain_view_leaves_it_alone():
    req = h.Request(
        "Be <b>brief</b> & kind", "What is 2+2?", "tiny/x", reply=" Four.", span="0:1",
        foil=" Five", methods=("occlusion",), level="sentence", max_new_tokens=9,
        strategy="sample", seed=7,
    )  # fmt: skip
    params = dict(parse_qsl(h.share_link(req)[1:]))
    assert params["tab"] == "chat" and params["chat_system"] == req.system
    assert h.from_params(params) == req
    assert h.from_params({"chat_user": "x"}) is None  # not this tab's link
    odd = {"tab": "chat", "chat_user": "x", "chat_new": "999", "chat_methods": "evil"}
    odd = h.from_params(odd)
    assert odd.max_new_tokens == h.MAX_NEW and odd.methods == h.DEFAULT_METHODS
    assert decode_with_changes(params)[1] == ()  # no "not a WhyWord setting" notice


def test_the_download_is_the_explanation_s_json(shown):
    with pytest.raises(Exception, match="Explain a chat first"):
        h.export_files(None)
    (path,) = h.export_files(shown.explanation)
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    assert data["span"] == [shown.explanation.start, shown.explanation.end]
    assert data["chat"]["roles"].count("template") == len(shown.explanation.chat.template_positions)
