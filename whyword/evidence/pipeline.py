"""`explain_with_evidence`: retrieve top-k blocks, read each, marginalise, attribute.

query ─► retriever (cached block embeddings, top-k by q·b) ─► p(z | x) = softmax(s / τ)
      ─► reader on "passage + query" for each block and on the query alone ─► p(y | x, z)
      ─► p(y | x) = Σ_z p(y | x, z) p(z | x) ─► passage attributions (closed form)
      ─► token attributions: the reader path (the core's methods) and the retriever path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import torch

from whyword.errors import InputError, shown
from whyword.evidence import corpus as corpora
from whyword.evidence import marginal as mg
from whyword.evidence.gradients import retriever_token_scores
from whyword.evidence.reader import (
    ReaderScores,
    joined,
    prediction,
    read,
    resolve_target,
    token_parts,
)
from whyword.evidence.result import Answer, EvidenceResult, RetrievedPassage, TokenAttribution
from whyword.evidence.retriever import block_embeddings, load_retriever, retrieval_query
from whyword.models.encoding import has_surrogate
from whyword.models.load import LoadedModel, load_model
from whyword.results.explanation import Explanation
from whyword.text.tokens import make_tokens, token_text, visible

DEFAULT_K = 5  # blocks retrieved (REALM used 5 at fine-tuning time)
DEFAULT_TEMPERATURE = (
    0.1  # τ of p(z | x) = softmax(cosine / τ): a cosine 0.3 higher is e³ ≈ 20× likelier
)
DEFAULT_METHODS = ("input_x_gradient",)  # reader path; one cheap signed method per passage
SURROGATE_ABLATIONS = 64  # random subsets for the ContextCite-style fit
SHOW = 10  # answers kept in the marginal / no-evidence tables
MAX_K = 20


def explain_with_evidence(
    query: str,
    passages=None,
    corpus=None,
    k: int = DEFAULT_K,
    target: int | str | None = None,
    methods: Sequence[str] | str = DEFAULT_METHODS,
    model=None,
    retriever=None,
    temperature: float = DEFAULT_TEMPERATURE,
    *,
    ablations: int = SURROGATE_ABLATIONS,
    seed: int = 0,
    explainer: Callable[..., Explanation] | None = None,
) -> EvidenceResult:
    """REALM's p(y | x) for `query` over the top-k of `passages` (text, one per paragraph, or a
    list) or a named `corpus` ("example"), with attributions to passages and to tokens.

    `target`: the answer explained (a token or token id; default the marginal's top-1).
    `methods`: the core's methods for the reader path ("" or () to skip it).
    `explainer`: what computes each reader-path explanation, `whyword.explain` by default; a
    server passes its scheduler's (whyword.serve.backend.scheduled_explain), so a long evidence
    request takes the heavy lane instead of holding the model other users wait for."""
    from whyword.results.methods import method_names

    _check(k, temperature, ablations)
    _check_text("query", query)
    methods = method_names(methods) if methods else ()
    clock = time.perf_counter()
    corp = corpora.resolve(passages, corpus)
    lm = load_model(model)
    retr = load_retriever(retriever)
    timings = {"load": time.perf_counter() - clock}

    clock = time.perf_counter()
    blocks = block_embeddings(retr, corp.passages)  # (N, D)
    with retr.lock:
        q = retr.embed_texts([retrieval_query(query)])[0]  # (D,)
    relevance_all = blocks @ q  # (N,)
    k = min(k, len(corp.passages))
    top = torch.topk(relevance_all, k)
    order = top.indices.tolist()
    relevance = top.values.double()  # (K,)
    texts = [corp.passages[i] for i in order]
    timings["retrieval"] = time.perf_counter() - clock

    clock = time.perf_counter()
    with lm.lock:
        wanted = resolve_target(lm, query, target)
        scores = read(lm, query, [*texts, None], extra=() if wanted is None else (wanted,))
    timings["reader"] = time.perf_counter() - clock

    log_pz = mg.retrieval_log_probs(relevance, temperature)  # (K,)
    all_py_z = scores.log_probs[:k].double()  # (K, S)
    marginal = mg.log_marginal(log_pz, all_py_z)  # (S,)
    column = int(marginal.argmax()) if wanted is None else scores.column(wanted)
    y = scores.token_id(column)
    log_py_z = all_py_z[:, column]  # (K,)
    log_py_none = float(scores.log_probs[k, column])

    clock = time.perf_counter()
    share = mg.shares(log_pz, log_py_z)  # (K,)
    loo = mg.leave_one_out(relevance, log_py_z, temperature, log_py_none)  # (K,)
    grad = mg.relevance_gradient(relevance, log_py_z, temperature)  # (K,)
    surrogate = mg.fit_surrogate(
        relevance, log_py_z, temperature, log_py_none, loo, ablations, seed
    )
    timings["passage_attribution"] = time.perf_counter() - clock

    clock = time.perf_counter()
    retr_attr = _retriever_path(retr, retrieval_query(query), texts, log_py_z, temperature)
    timings["retriever_path"] = time.perf_counter() - clock
    clock = time.perf_counter()
    reader_expl, reader_attr = _reader_path(lm, query, texts, scores, y, methods, explainer)
    timings["reader_path"] = time.perf_counter() - clock
    timings["total"] = sum(timings.values())

    retrieved = tuple(
        RetrievedPassage(
            rank=r + 1,
            index=order[r],
            text=texts[r],
            relevance=float(relevance[r]),
            retrieval_probability=float(log_pz[r].exp()),
            reader_probability=float(log_py_z[r].exp()),
            share=float(share[r]),
            leave_one_out=float(loo[r]),
            relevance_gradient=float(grad[r]),
            surrogate_weight=surrogate.weights[r],
        )
        for r in range(k)
    )
    return EvidenceResult(
        query=query,
        model=lm.name,
        retriever=retr.name,
        corpus=corp.name,
        corpus_size=len(corp.passages),
        mode=scores.mode,
        k=k,
        temperature=float(temperature),
        target=_answer(lm, y, float(marginal[column].exp())),
        target_probability_no_evidence=float(torch.exp(torch.tensor(log_py_none))),
        marginal_top=_top(lm, scores, marginal),
        no_evidence_top=_top(lm, scores, scores.log_probs[k].double()),
        retrieved=retrieved,
        surrogate=surrogate,
        token_attributions=(*retr_attr, *reader_attr),
        reader=reader_expl,
        timings=timings,
        notes=_notes(scores),
    )


def _check_text(name: str, text: object) -> None:
    if not isinstance(text, str):
        raise InputError(f"The {name} must be a string, got {shown(text)}.")
    if has_surrogate(text):
        raise InputError(
            f"The {name} contains an invalid character (an unpaired UTF-16 surrogate); remove it."
        )


def _check(k, temperature, ablations) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InputError(f"k must be a whole number from 1 to {MAX_K}, got {shown(k)}.")
    if not isinstance(temperature, (int, float)) or not 0.001 <= temperature <= 100:
        raise InputError(
            f"The temperature must be a number from 0.001 to 100, got {shown(temperature)}."
        )
    if isinstance(ablations, bool) or not isinstance(ablations, int) or not 1 <= ablations <= 4096:
        raise InputError(f"The number of ablations must be from 1 to 4096, got {shown(ablations)}.")


def _answer(lm: LoadedModel, token_id: int, probability: float) -> Answer:
    text = token_text(lm.tokenizer, token_id)
    return Answer(token_id=token_id, token=visible(text), text=text, probability=probability)


def _top(lm: LoadedModel, scores: ReaderScores, log_probs: torch.Tensor) -> tuple[Answer, ...]:
    best = torch.topk(log_probs, min(SHOW, log_probs.numel()))
    return tuple(
        _answer(lm, scores.token_id(int(c)), float(v.exp()))
        for v, c in zip(best.values, best.indices, strict=True)
    )


def _retriever_path(retr, query, texts, log_py_z, temperature) -> list[TokenAttribution]:
    q, q_scores, b, b_scores = retriever_token_scores(retr, query, texts, log_py_z, temperature)
    out = [_encoder_row(retr, q.ids[0], q.mask[0], q_scores, None, "query")]
    for r in range(len(texts)):
        out.append(_encoder_row(retr, b.ids[r], b.mask[r], b_scores[r], r + 1, "passage"))
    return out


def _encoder_row(retr, ids, mask, scores, passage, part) -> TokenAttribution:
    n = int(mask.sum())
    tokens = make_tokens(retr.tokenizer, ids[:n].tolist())
    return TokenAttribution(
        path="retriever",
        method="input_x_gradient",
        passage=passage,
        tokens=tuple(t.label for t in tokens),
        parts=(part,) * n,
        scores=tuple(float(s) for s in scores[:n]),
        signed=True,
    )


def _reader_path(lm, query, texts, scores: ReaderScores, y: int, methods, explainer=None):
    """The core's explanation of log p(y | x, z) on each reader input (and the query alone)."""
    from whyword.tasks.explain import explain

    explain = explainer or explain
    if not methods:
        return (), []
    explanations, rows = [], []
    for r, passage in enumerate([*texts, None]):
        text = joined(passage, query)
        pred = prediction(lm, scores, r, SHOW)
        e = explain(text, target=y, methods=methods, model=lm, predictions=(pred,))
        ids = [t.id for t in e.tokens]
        parts = token_parts(lm, text, ids, passage) if passage else ("query",) * len(ids)
        for a in e.attributions:
            rows.append(
                TokenAttribution(
                    path="reader",
                    method=a.method,
                    passage=r + 1 if passage else None,
                    tokens=tuple(t.label for t in e.tokens),
                    parts=parts,
                    scores=tuple(float(s) for s in a.scores),
                    signed=a.signed,
                )
            )
        explanations.append(e)
    return tuple(explanations), rows


def _notes(scores: ReaderScores) -> tuple[str, ...]:
    notes = [
        "The retriever reads the query without its [MASK] (the sentence encoder was never "
        "trained on the mask token); the reader reads it as typed.",
        "Leave-one-out and the surrogate's ablations renormalise p(z | x) over the kept blocks: "
        "the reader reads each block on its own, so they need no extra forward pass; with no "
        "block left p(y | x) is the reader's no-evidence value.",
    ]
    if scores.mode == "infill":
        notes.append(
            f"Infill scoring: every context is normalised over one shared pool of "
            f"{len(scores.candidate_ids)} candidates (each context's top next tokens)."
        )
    return tuple(notes)
