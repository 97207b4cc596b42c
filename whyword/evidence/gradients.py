"""The retriever path: log p(y | x) back through p(z | x) into the encoder's token embeddings.

The reader's p(y | x, z) are constants here (read without gradients); what moves is the
relevance s_z = q(x) · b(z), through the query embedding q and the block embeddings b. A token's
score is input × gradient, e · ∂ log p(y | x) / ∂e: how much that token's embedding, through the
retriever alone, raised the answer's marginal probability (REALM's training signal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from whyword.evidence.marginal import log_marginal, retrieval_log_probs
from whyword.evidence.retriever import MAX_PASSAGE_TOKENS, Retriever


@dataclass(frozen=True, eq=False)
class EncoderInputs:
    """Token embeddings (leaves that take gradients) and what the encoder needs beside them."""

    ids: torch.Tensor  # (B, T)
    embeds: torch.Tensor  # (B, T, H)
    mask: torch.Tensor  # (B, T)
    types: torch.Tensor  # (B, T)


def encoder_inputs(retriever: Retriever, texts: Sequence[str], dtype=None) -> EncoderInputs:
    batch = retriever.tokenizer(
        list(texts),
        return_tensors="pt",
        padding=True,
        truncation=True,
        max_length=MAX_PASSAGE_TOKENS,
    ).to(retriever.device)
    ids = batch["input_ids"]  # (B, T)
    with torch.no_grad():
        embeds = retriever.model.get_input_embeddings()(ids)  # (B, T, H)
    if dtype is not None:
        embeds = embeds.to(dtype)
    types = batch.get("token_type_ids", torch.zeros_like(ids))  # (B, T)
    return EncoderInputs(ids, embeds.clone().requires_grad_(), batch["attention_mask"], types)


def log_marginal_through_retriever(
    retriever: Retriever,
    query: EncoderInputs,
    blocks: EncoderInputs,
    log_py_z: torch.Tensor,
    temperature: float,
    query_embeds: torch.Tensor | None = None,
) -> torch.Tensor:
    """log p(y | x) as a function of the query's (and blocks') token embeddings: a scalar."""
    q_in = query.embeds if query_embeds is None else query_embeds
    q = retriever.embed_tokens(q_in, query.mask, query.types)[0]  # (D,)
    b = retriever.embed_tokens(blocks.embeds, blocks.mask, blocks.types)  # (K, D)
    relevance = b @ q  # (K,)
    log_pz = retrieval_log_probs(relevance, temperature)  # (K,)
    return log_marginal(log_pz, log_py_z.to(log_pz.dtype))  # ()


def retriever_token_scores(
    retriever: Retriever,
    query: str,
    passages: Sequence[str],
    log_py_z: torch.Tensor,
    temperature: float,
) -> tuple[EncoderInputs, torch.Tensor, EncoderInputs, torch.Tensor]:
    """Input × gradient of log p(y | x) at the query's and each block's encoder tokens:
    (query inputs, (Tq,) scores, block inputs, (K, Tp) scores; padding scored 0)."""
    with retriever.lock, torch.enable_grad():
        q = encoder_inputs(retriever, [query])
        b = encoder_inputs(retriever, passages)
        value = log_marginal_through_retriever(retriever, q, b, log_py_z.detach(), temperature)
        gq, gb = torch.autograd.grad(value, (q.embeds, b.embeds))  # (1, Tq, H), (K, Tp, H)
    q_scores = (q.embeds.detach() * gq).sum(-1)[0]  # (Tq,)
    b_scores = (b.embeds.detach() * gb).sum(-1) * b.mask  # (K, Tp)
    return q, q_scores.cpu(), b, b_scores.cpu()
