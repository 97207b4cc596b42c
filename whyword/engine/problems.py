"""The `Problem` the engine's jobs make: every job's rows, their input embeddings right-padded
to the longest job (attention mask 0 on the padding), the reference (zero / pad / mask
embedding) occlusion and IG start from, each row's held tokens, F, and the batch sizes the
memory budget allows. One job is the same Problem without padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from whyword.attr import Problem
from whyword.engine.forward import RowSpec, held_prefix_scorer, matrix_scorer
from whyword.errors import InputError
from whyword.models.load import LoadedModel
from whyword.runtime.options import ExplainOptions
from whyword.text.tokens import special_ids

__all__ = ["MatrixJob", "build_problem", "merged_problem", "reference_embeddings"]


@dataclass(frozen=True)
class MatrixJob:
    """One request's matrix: its input ids, rows and their labels."""

    ids: tuple[int, ...]
    rows: tuple[RowSpec, ...]
    labels: tuple[str, ...]
    value_objective: str | None = None  # whose exp is a row's target probability (log_prob)
    notes: tuple[str, ...] = ()
    # positions held at their real embedding besides special tokens (a chat template's tokens)
    held: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        assert self.rows and len(self.rows) == len(self.labels), "one label per row"
        assert all(0 <= p < len(self.ids) for p in self.held), "held positions in the input"
        assert all(r.target.ids == self.ids for r in self.rows), "rows read the job's input"

    @property
    def pooled(self) -> bool:
        """Do its rows score infill candidate pools (not shared with other jobs' rows)?"""
        return any(r.pool for r in self.rows)


def build_problem(
    lm: LoadedModel, ids, rows, opts: ExplainOptions, uses_ig: bool = True, primal=None
) -> Problem:
    """The Problem of one input's rows (tests, benchmarks): `merged_problem` of one job."""
    job = MatrixJob(tuple(ids), tuple(rows), tuple(str(i) for i in range(len(rows))))
    return merged_problem(lm, [job], opts, holds=uses_ig, primal=primal)[0]


def merged_problem(
    lm: LoadedModel,
    jobs: Sequence[MatrixJob],
    opts: ExplainOptions,
    holds: bool = False,
    primal: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[Problem, list[slice]]:
    """One Problem over every job's rows, and each job's slice of them.

    `holds`: a method holds the anchors at their real embedding (IG): with one causal job
    whose first token is held, F of the path then skips that token (`held_prefix_scorer`).
    `primal`: F (R,) and ∂F/∂x (R, W, H) from the pass that read the predictions."""
    from whyword.models.budget import RowShape, batch_rows

    device = lm.device
    width = max(len(job.ids) for job in jobs)
    rows = [r for job in jobs for r in job.rows]
    specials = special_ids(lm.tokenizer)
    xs, masks, refs, anchors, spans, at = [], [], [], [], [], 0
    with torch.no_grad():
        for job in jobs:
            t, n, pad = len(job.ids), len(job.rows), width - len(job.ids)
            x = lm.embed(torch.tensor(job.ids, device=device)).unsqueeze(0)  # (1, T, H)
            xs.append(torch.nn.functional.pad(x, (0, 0, 0, pad)).expand(n, -1, -1))  # (n, W, H)
            ref = reference_embeddings(lm, t, opts.baseline)  # (1, T, H)
            refs.append(torch.nn.functional.pad(ref, (0, 0, 0, pad)).expand(n, -1, -1))
            mask = torch.zeros(n, width, dtype=torch.long, device=device)  # (n, W)
            mask[:, :t] = 1
            masks.append(mask)
            held = torch.zeros(width, dtype=torch.bool, device=device)  # (W,)
            held[:t] = torch.tensor([int(i) in specials for i in job.ids], device=device)
            held[list(job.held)] = True  # a chat template's tokens: never varied as words
            if lm.kind == "causal" and opts.hold_first:
                held[0] = True  # the attention sink: varying it makes F jump along the IG path
            anchors.append(held.expand(n, -1))  # (n, W)
            spans.append(slice(at, at + n))
            at += n
    inputs = torch.cat(xs)  # (R, W, H)
    path_forward = None
    if holds and len(jobs) == 1 and lm.kind == "causal" and opts.hold_first:
        path_forward = held_prefix_scorer(lm, rows, inputs[:1])
    shape = RowShape(  # what one row of F runs: sizes every batch to the memory budget
        lm,
        sequences_per_row=max(len(row.layouts) for row in rows),
        scored_positions=max(sum(len(x.scored) for x in row.layouts) for row in rows),
        extra_tokens=max(len(x.inserted) for row in rows for x in row.layouts),
    )
    explicit = opts.internal_batch_size
    problem = Problem(
        forward=matrix_scorer(lm, rows, padded=len(jobs) > 1),
        inputs=inputs.clone().requires_grad_(),  # (R, W, H): a leaf per row
        rows=torch.arange(len(rows), device=device),  # (R,)
        attention_mask=torch.cat(masks),  # (R, W)
        reference=torch.cat(refs),  # (R, W, H)
        anchors=torch.cat(anchors),  # (R, W)
        batch_rows=lambda t, grad=True, wide=False: batch_rows(
            shape, t, grad=grad, explicit=explicit, wide=wide
        ),
        baseline_name=opts.baseline,
        path_forward=path_forward,
        model=lm,
        primal=primal,
    )
    return problem, spans


def reference_embeddings(lm: LoadedModel, length: int, baseline: str) -> torch.Tensor:
    """The reference embedding at every position: zeros, or the pad / mask token's embedding."""
    hidden = lm.embedding.embedding_dim
    if baseline == "zero":
        return torch.zeros(1, length, hidden, device=lm.device)  # (1, T, H)
    tok = lm.tokenizer
    if baseline == "pad":
        candidates = (tok.pad_token_id, tok.eos_token_id, tok.unk_token_id)
        token_id = next((i for i in candidates if i is not None), None)
    else:
        token_id = tok.mask_token_id
    if token_id is None:
        raise InputError(f"Model '{lm.name}' has no {baseline} token; use the zero baseline.")
    with torch.no_grad():
        vector = lm.embed(torch.tensor([token_id], device=lm.device))  # (1, H)
    return vector.view(1, 1, hidden).expand(1, length, hidden).clone()  # (1, T, H)
