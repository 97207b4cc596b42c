"""The API endpoints for gradio_client: plain values in, JSON-able values out, one per view:
/explain and /predict (the Explain view), /positions and /generate (the Sequence view),
/evidence (the Evidence view), /layers and /attention (the Layers view), /chat (the Chat view). Each takes its view's own route and checks (`session.check` /
`session.run`, `sequence_session.begin`, `evidence_handlers.compute`, the scheduler's
`scheduled_layers` / `scheduled_attention` after the page's checks), so the limits are the
page's. Every argument is read by name (api_args.py): a value of the wrong kind, a number out of
range, an unknown name or a missing or extra argument is one WhyWord sentence, never another
exception; a user's mistake is logged as one line, a real failure with its traceback.
"""

from __future__ import annotations

from typing import Any

from whyword.errors import InputError, WhyWordError, shown
from whyword.models.limits import current_limits
from whyword.runtime.options import DEFAULT_METHODS
from whyword.ui import api_args as arg
from whyword.ui import session
from whyword.ui.api_args import endpoint, whole
from whyword.ui.display import heatmap
from whyword.ui.session import GENERIC_ERROR
from whyword.ui.share import Query, parse_target

__all__ = [
    "api_attention",
    "api_chat",
    "api_counterfactuals",
    "api_evidence",
    "api_explain",
    "api_generate",
    "api_layers",
    "api_positions",
    "api_predict",
    "whole",
]


@endpoint("explain")
def api_explain(
    text: str,
    model: str = "default",
    target: str = "",
    foil: str = "",
    methods: str = ",".join(DEFAULT_METHODS),
    steps: int = 32,
    baseline: str = "zero",
    k: int = 10,
    mask: int = 0,
) -> tuple[dict, str]:
    """Explain why `model` predicts `target` (blank: its top-1) after or inside `text`.

    Returns the explanation as JSON (tokens, predictions, scores per method, IG convergence)
    and the token heatmap as HTML; a request that cannot be explained raises WhyWordError
    with its message.
    """
    query = Query(
        text=arg.text("text", text),
        model=arg.name("model", model, "default"),
        target=arg.target("target", target),
        foil=arg.target("foil", foil),
        methods=arg.names("methods", methods),
        steps=whole("steps", steps),
        baseline=arg.name("baseline", baseline, "zero"),
        k=whole("k", k),
        mask=whole("mask", mask),
    )
    if query.mask < 0:
        raise InputError(f"mask must be 0 (the first [MASK]) or more, got {shown(query.mask)}.")
    outcome = session.run(query, where=None)  # the endpoint logs a user's mistake
    if not outcome.ok:
        raise WhyWordError(outcome.error or GENERIC_ERROR)
    return outcome.explanation.to_dict(), heatmap(outcome.explanation, query)


@endpoint("predict")
def api_predict(text: str, model: str = "default", k: int = 10) -> list[dict]:
    """The top-k predictions (rank, token, token_id, probability, mask) without attributions."""
    query = Query(
        text=arg.text("text", text), model=arg.name("model", model, "default"), k=whole("k", k)
    )
    name = session.check(query)  # the page's checks: limits, empty text, k
    from whyword.serve.backend import backend

    # through the scheduler: concurrent users' predictions share calls
    preds = backend().predictions(name, query.text, query.k, current_limits().max_tokens)
    return [row for p in preds for row in p.rows()]


@endpoint("positions")
def api_positions(text: str, model: str = "default", k: int = 5) -> dict:
    """What a causal `model` expected at every position of `text` (the Sequence tab's strip):
    per position the token, its probability, rank, surprisal and entropy (bits) and the top-k
    there; the total surprisal's perplexity. The JSON of `whyword.PositionTable`."""
    from whyword.tasks.positions import position_table
    from whyword.ui import sequence_session as ss

    text, model, k = arg.text("text", text), arg.name("model", model, "default"), whole("k", k)
    current_limits().check_numbers(k=k, steps=1, samples=1)
    lm, _, ids = ss.begin(text, model)  # the Sequence tab's checks: limits, empty, causal
    with lm.lock:
        return position_table(lm, ids, k).to_dict()


STRATEGIES = ("sample", "greedy")  # the Sequence tab's auto-complete


@endpoint("generate")
def api_generate(
    text: str,
    model: str = "default",
    max_new_tokens: int = 10,
    strategy: str = "sample",
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    seed: int = 0,
) -> dict:
    """Continue `text` as the Sequence tab's auto-complete does (at most 50 tokens; greedy, or
    seeded sampling after temperature, top-k (0 = off) and top-p (1 = off)): the generated
    text, its token ids, and each step's transition scores in the warped and the raw
    distribution (the tab's transition table)."""
    from whyword.tasks.generate import SCORES_FROM
    from whyword.tasks.stepper import Session, Warp, auto_complete
    from whyword.tasks.transitions import transition_steps
    from whyword.ui import sequence_session as ss

    text, model = arg.text("text", text), arg.name("model", model, "default")
    n = whole("max_new_tokens", max_new_tokens)
    if not 1 <= n <= ss.MAX_AUTO:
        raise InputError(f"max_new_tokens must be from 1 to {ss.MAX_AUTO}, got {shown(n)}.")
    picking = arg.name("strategy", strategy, "sample")
    if picking not in STRATEGIES:
        raise InputError(f"Unknown strategy {shown(picking)}. Choose from: sample, greedy.")
    t, k, p = real_warp(temperature, top_k, top_p)
    draw = whole("seed", seed)
    lm, name, ids = ss.begin(text, model)
    warp = ss.warp_of(t, k, p) if picking == "sample" else Warp()
    out = auto_complete(lm, ids, n, picking, warp, draw)
    session_ = Session(name, ids, out)
    steps = transition_steps(lm, session_, warp)
    eos = lm.model.generation_config.eos_token_id
    ended = bool(out[len(ids) :]) and out[-1] in set(eos if isinstance(eos, list) else [eos])
    return {
        "model": lm.name,
        "text": lm.tokenizer.decode(session_.appended),
        "token_ids": list(session_.appended),
        "stopped": "eos" if ended else "length",
        "steps": [step.row() for step in steps],
        "scores_from": SCORES_FROM,
    }


def real_warp(temperature: Any, top_k: Any, top_p: Any) -> tuple[float, int, float]:
    """The sliders' three values, read and checked (the Sequence tab's meaning: top-k 0 and
    top-p 1 are off; `Warp` checks the rest)."""
    t, k, p = arg.real("temperature", temperature), whole("top_k", top_k), arg.real("top_p", top_p)
    if k < 0:
        raise InputError(f"top_k must be 0 (off) or more, got {shown(k)}.")
    if not 0 < p <= 1:
        raise InputError(f"top_p must be above 0 and at most 1 (off), got {shown(p)}.")
    return t, k, p


@endpoint("evidence")
def api_evidence(
    query: str,
    passages: str = "",
    corpus: str = "example",
    k: int = 5,
    temperature: float = 0.1,
    model: str = "default",
    target: str = "",
) -> dict:
    """REALM-style evidence for `query` (with [MASK] where the answer goes): the top-k
    passages of a shipped `corpus` ("example"), or of `passages` (one per paragraph) when
    `corpus` is "", with p(z | x), each passage's share of the answer, the marginal p(y | x)
    and token attributions through the reader and the retriever. The JSON of
    `whyword.EvidenceResult`; `target` ("" = the marginal's top-1, a word or "id:<n>")."""
    from whyword.evidence.corpus import CORPORA
    from whyword.ui.views import evidence_handlers as h

    source = arg.text("corpus", corpus).strip()
    if source and source not in CORPORA:
        raise InputError(
            f"Unknown corpus {shown(source)}. Choose from: {', '.join(CORPORA)}, or '' to "
            "search the passages you give."
        )
    req = h.Request(
        query=arg.text("query", query),
        passages=arg.text("passages", passages),
        corpus=source,
        k=whole("k", k),
        temperature=arg.real("temperature", temperature),
        target=parse_target(arg.target("target", target)),
    )
    return h.compute(req, arg.name("model", model, "default")).to_dict()


def _inside_the_model(text: str, model: Any) -> tuple[str, str, Any]:
    """The Layers view's checks: a text within the limits, a model this server serves."""
    from whyword.ui.views import layers_handlers as lh

    text, name = arg.text("text", text), arg.name("model", model, "default")
    if not text.strip():
        raise InputError(lh.EMPTY)
    limits = current_limits()
    name = limits.check_model(name)
    limits.check_text(text)
    return text, name, limits


@endpoint("layers")
def api_layers(
    text: str,
    model: str = "default",
    target: str = "",
    foil: str = "",
    k: int = 5,
    check: int = 10,
) -> dict:
    """What each layer predicts at the last token of `text` (the logit lens: top-k per layer,
    the target's and foil's probability and rank), which heads and MLPs wrote the target
    (direct logit attribution) and the top `check` of them ablated. The JSON of
    `whyword.LayerLens`; `target` ("" = the top-1, a word or "id:<n>"), `foil` ("" = none)."""
    from whyword.serve.backend import scheduled_layers

    text, name, limits = _inside_the_model(text, model)
    k, check = whole("k", k), whole("check", check)
    if not 1 <= k <= 20:
        raise InputError(f"k must be a whole number from 1 to 20, got {k}.")
    if not 0 <= check <= 50:  # before any model is loaded
        raise InputError(f"check must be a whole number from 0 to 50, got {check}.")
    lens = scheduled_layers(
        text,
        target=parse_target(arg.target("target", target)),
        foil=parse_target(arg.target("foil", foil)),
        k=k,
        model=name,
        max_tokens=limits.max_tokens,
        check=check,
    )
    return lens.to_dict()


@endpoint("attention")
def api_attention(text: str, layer: int, head: int, model: str = "default") -> dict:
    """Where head `head` (0-based) of block `layer` (1-based) looked from the last token of
    `text`, and how much it moved from each token; every head's total moved norm there. The
    JSON of `whyword.HeadAttention`."""
    from whyword.serve.backend import scheduled_attention

    text, name, limits = _inside_the_model(text, model)
    seen = scheduled_attention(
        text,
        whole("layer", layer),
        whole("head", head),
        model=name,
        max_tokens=limits.max_tokens,
    )
    return seen.to_dict()


@endpoint("counterfactuals")
def api_counterfactuals(
    text: str, model: str = "default", target: str = "", foil: str = ""
) -> dict:
    """What would change the answer of `model` to `text`: HotFlip's single-token edits at every
    position, input reduction and the minimal flip, each edit run through the model (the
    Explain tab's panel, through the scheduler). The panel's result as JSON
    (`WhatIf.to_dict()`)."""
    from whyword.ui.views.counterfactuals_handlers import Request, compute

    request = Request(
        arg.text("text", text),
        arg.target("target", target),
        arg.target("foil", foil),
        arg.name("model", model, "default"),
    )
    return compute(request).to_dict()


@endpoint("chat")
def api_chat(
    user: str,
    system: str = "",
    model: str = "default",
    reply: str = "",
    span: str = "",
    foil: str = "",
    methods: str = "saliency,occlusion",
    max_new_tokens: int = 24,
    strategy: str = "greedy",
    seed: int = 0,
) -> dict:
    """The Chat tab: `model` answers the `system` (optional) and `user` messages through its
    chat template (at most 64 new tokens, greedy or seeded sampling), or takes the typed
    `reply`; then a `span` of the reply ("" = all of it, "a:b" = reply tokens a..b−1, or
    a phrase) is explained, minus the `foil` ("" = none), the template's tokens held. The JSON
    of `ChatExplanation.to_dict()`: the chat, each token's role, the span, F's value, the
    scores per method, per message and per sentence."""
    from whyword.ui.views import chat_handlers as ch

    request = ch.Request(
        system=arg.text("system", system),
        user=arg.text("user", user),
        model=arg.name("model", model, "default"),
        reply=arg.text("reply", reply),
        span=arg.text("span", span),
        foil=arg.text("foil", foil),
        methods=arg.names("methods", methods),
        max_new_tokens=whole("max_new_tokens", max_new_tokens),
        strategy=arg.name("strategy", strategy, "greedy"),
        seed=whole("seed", seed),
    )
    if request.seed < 0:
        raise InputError(f"seed must be 0 or more, got {request.seed}.")
    return ch.compute(request).to_dict()
