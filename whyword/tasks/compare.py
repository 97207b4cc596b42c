"""`compare(text, models=(a, b))`: the same text and target word explained by two models.

Each side is `explain` of that model alone (the one engine, its result cache included), so a
side equals what `whyword.explain` gives for that model. The models run one after another,
each loaded once: the first is explained before the second is loaded, and the comparison
keeps only their Explanations, so with `WHYWORD_MAX_MODELS=1` the first model leaves memory
when the second comes in. A target or foil given as a word is resolved by each model's own
tokenizer; with no target, both explain the first model's top-1 word.
"""

from __future__ import annotations

from collections.abc import Sequence

from whyword.errors import InputError
from whyword.models.load import LoadedModel, load_model, max_loaded, probe_kind
from whyword.results.compare import Comparison, comparison
from whyword.runtime.options import DEFAULT_METHODS
from whyword.tasks.explain import explain


def compare(
    text: str,
    models: Sequence,
    target: str | None = None,
    foil: str | None = None,
    methods: Sequence[str] | str = DEFAULT_METHODS,
    **options,
) -> Comparison:
    """Explain why each of two models (Hub ids, folders or LoadedModels) predicts `target`
    (a word; default: the first model's top-1) after / inside `text`, and how far their
    attributions agree (Spearman's ρ per method, by token or by word)."""
    models = list(models) if not isinstance(models, str) else [models]
    if len(models) != 2:
        raise InputError(f"compare takes two models, not {len(models)}.")
    for role, word in (("target", target), ("foil", foil)):
        if word is not None and not isinstance(word, str):
            raise InputError(
                f"Give the {role} as a word: token ids mean different things to two tokenizers."
            )
    _same_kind(*models)  # before any work, when both kinds can be told from the configs
    first = load_model(models[0])
    a = explain(text, target=target, foil=foil, methods=methods, model=first, **options)
    notes = []
    if target is None:
        notes.append(f"Both models explain the first model's top-1, {a.target!r}.")
    kind, name = first.kind, first.name
    del first  # only the Explanation is kept: the cache decides whether the model stays
    second = load_model(models[1])
    _same_kind((name, kind), (second.name, second.kind))
    b = explain(
        text,
        target=a.target if target is None else target,
        foil=foil,
        methods=methods,
        model=second,
        **options,
    )
    if max_loaded() < 2:
        notes.append(
            "One model is kept in memory (WHYWORD_MAX_MODELS=1): they ran one after another."
        )
    return comparison(a, b, tuple(notes))


def _same_kind(*models) -> None:
    """Refuse a causal and a masked model: they read one sentence in different ways."""
    named = []
    for m in models:
        if isinstance(m, tuple):
            named.append(m)
        elif isinstance(m, LoadedModel):
            named.append((m.name, m.kind))
        else:
            named.append((str(m), probe_kind(str(m))))
    (a, ka), (b, kb) = named
    if ka is not None and kb is not None and ka != kb:
        raise InputError(
            f"{a} is a {ka} model and {b} a {kb} one: they read one sentence in different "
            "ways (the next word vs a masked gap), so they are not compared."
        )
