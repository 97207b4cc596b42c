"""What the page calls to explain and predict: this process's scheduler, or a Ray Serve
deployment when `WHYWORD_BACKEND` is its address (whyword/serve/client.py, plain HTTP).

It lives in `serve/` because it may reach the deployment: the core (the scheduler, the
dispatcher, the engine) never imports `serve/`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from whyword.models.load import LoadedModel
from whyword.results.attention import HeadAttention
from whyword.results.counterfactuals import WhatIf
from whyword.results.explanation import Explanation
from whyword.results.layers import LayerLens
from whyword.runtime import settings
from whyword.serve.scheduler import scheduler

if TYPE_CHECKING:  # the tasks load lazily, as the functions below do
    from whyword.tasks.chat_result import ChatExplanation, ChatResult


def backend():
    """A Ray Serve deployment when `WHYWORD_BACKEND` is its address (http://host:port), else
    this process's scheduler."""
    address = settings.BACKEND.get()
    if address:
        from whyword.serve.client import RayBackend

        return RayBackend.at(address)
    return scheduler()


def scheduled_explain(*args: Any, **kwargs: Any) -> Explanation:
    """`whyword.explain` through `backend()`: lanes and batching, or Ray Serve."""
    return backend().explain(*args, **kwargs)


LAYERS_EVALUATIONS = 12  # work per token: the lens's forward and ten batched ablation rows


def scheduled_layers(
    text: str,
    target: int | str | None = None,
    foil: int | str | None = None,
    k: int = 5,
    model: str | None = None,
    max_tokens: int | None = None,
    check: int = 10,
) -> LayerLens:
    """`whyword.layers` through this process's scheduler, alone, in the lane its size picks:
    so a class's Layers tabs wait their turn with its explanations instead of taking the
    model beside them (the heavy lane hands over its own copy of the model)."""

    from whyword.models.encoding import encode
    from whyword.models.load import load_model
    from whyword.tasks.layers import layers

    lm = load_model(model)
    tokens = len(encode(lm, text, max_tokens).ids)  # a text over the budget: its sentence here

    def run(copy: LoadedModel) -> LayerLens:  # the lens, DLA and its ablation check
        return layers(text, target=target, foil=foil, k=k, model=copy, check=check)

    return scheduler().call(lm, tokens * LAYERS_EVALUATIONS, run)


ATTENTION_EVALUATIONS = 2  # work per token: one eager forward with hooks


def scheduled_attention(
    text: str,
    layer: int,
    head: int,
    position: int | None = None,
    model: str | None = None,
    max_tokens: int | None = None,
) -> HeadAttention:
    """`whyword.attention` (one head's row, eager attention for that call) through this
    process's scheduler, like `scheduled_layers`."""
    from whyword.models.encoding import encode
    from whyword.models.load import load_model
    from whyword.tasks.attention import attention

    lm = load_model(model)
    tokens = len(encode(lm, text, max_tokens).ids)

    def run(copy: LoadedModel) -> HeadAttention:
        return attention(text, layer, head, position=position, model=copy)

    return scheduler().call(lm, tokens * ATTENTION_EVALUATIONS, run)
WHAT_IF_BUDGET = 120  # HotFlip's edited inputs: every position of a ~12-token text, up to 10 each
WHAT_IF_FLIP_BUDGET = 200  # the minimal flip's edited inputs (its own HotFlip's included)


def scheduled_what_if(
    text: str,
    target: int | str | None = None,
    foil: int | str | None = None,
    model: str | None = None,
    max_tokens: int | None = None,
) -> WhatIf:
    """`whyword.tasks.counterfactuals.what_if` (HotFlip at every position, input reduction,
    the minimal flip) through this process's scheduler, alone, like `scheduled_layers`. Its
    work: a forward row costs about a third of a gradient evaluation; reduction takes one
    gradient pass and three rows per removed token."""
    from whyword.models.encoding import encode
    from whyword.models.load import load_model
    from whyword.tasks.counterfactuals import what_if

    lm = load_model(model)
    tokens = len(encode(lm, text, max_tokens).ids)
    rows = WHAT_IF_BUDGET + WHAT_IF_FLIP_BUDGET + 3 * tokens

    def run(copy: LoadedModel) -> WhatIf:
        return what_if(
            text,
            target=target,
            foil=foil,
            model=copy,
            budget=WHAT_IF_BUDGET,
            flip_budget=WHAT_IF_FLIP_BUDGET,
            max_tokens=max_tokens,
        )

    return scheduler().call(lm, tokens * (tokens + rows // 3), run)


# work per token of the conversation and its reply while generating: one forward over the
# conversation, then one cached step per new token (under a gradient evaluation each)
CHAT_GENERATE_EVALUATIONS = 1


def scheduled_chat(
    messages,
    model: str | None = None,
    max_new_tokens: int = 40,
    strategy: str = "greedy",
    seed: int = 0,
    reply: str | None = None,
    max_tokens: int | None = None,
) -> ChatResult:
    """`whyword.chat` (the template, then the generated or typed reply) through this process's
    scheduler, alone, like `scheduled_layers`. `max_tokens`: the server's token budget for
    the whole conversation and its reply (one sentence past it)."""
    from whyword.errors import InputError
    from whyword.models.load import load_model
    from whyword.tasks.chat import chat, chat_prompt
    from whyword.text.chat import messages_of

    lm = load_model(model)
    prompt = len(chat_prompt(lm, messages_of(messages))[1])
    new = 0 if reply is not None else int(max_new_tokens)
    if max_tokens is not None and prompt + new > max_tokens:
        raise InputError(
            f"The conversation ({prompt} tokens) and its reply would exceed this server's "
            f"budget of {max_tokens} tokens: shorten the messages or the reply."
        )

    def run(copy: LoadedModel) -> ChatResult:
        got = chat(
            messages, model=copy, max_new_tokens=max_new_tokens, strategy=strategy, seed=seed,
            reply=reply,
        )
        if max_tokens is not None and len(got.tokens) > max_tokens:
            raise InputError(
                f"The conversation and its reply ({len(got.tokens)} tokens) exceed this "
                f"server's budget of {max_tokens} tokens: shorten the messages or the reply."
            )
        return got

    return scheduler().call(lm, (prompt + new) * CHAT_GENERATE_EVALUATIONS, run)


def scheduled_chat_explain(
    result: ChatResult,
    span: str | tuple[int, int] | None = None,
    foil: str | None = None,
    methods: tuple[str, ...] | None = None,
    mean: bool = False,
    model: str | None = None,
) -> ChatExplanation:
    """`ChatResult.explain` (a span of the reply, the template's tokens held) through this
    process's scheduler, alone, like `scheduled_layers`, in the lane the methods' cost picks;
    `model`: the one that made `result`. An unknown method is the registry's sentence."""
    from whyword.models.load import load_model
    from whyword.runtime.options import DEFAULT_METHODS, ExplainOptions
    from whyword.serve.scheduler import cost

    lm = load_model(model)
    chosen = tuple(methods or DEFAULT_METHODS)
    work = cost(len(result.tokens), chosen, ExplainOptions())  # each method's own cost model

    def run(copy: LoadedModel) -> ChatExplanation:
        return result.explain(span=span, foil=foil, methods=chosen, mean=mean, model=copy)

    return scheduler().call(lm, work, run)
