"""One forward+backward for the predictions, F(x) and ∂F/∂x of next-token prompts.

`explain(text, methods=("saliency",))` used to run the model four times: the top-k forward,
F(x) for the row's value, F(x) again for log p(target), then saliency's forward+backward. On
the next-token route the top-k logits at the last position are the very logits F reads, so one
forward with gradients gives the predictions; once the target is resolved from them, F is a
function of those logits and one backward gives ∂F/∂x. The methods that only need that
gradient (`Method.reads_gradient`: saliency, input × gradient) then read it from
`Problem.primal`. Several prompts share the pass, right-padded (whyword/tasks/explain.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from whyword.attr.scoring import row_values
from whyword.engine.forward import RowSpec
from whyword.engine.predict import _top_k
from whyword.models import calls as model_calls
from whyword.models.encoding import Encoded
from whyword.models.load import LoadedModel
from whyword.results.explanation import Prediction


def _reads_last_logits(row: RowSpec, last: int) -> bool:
    """Does F read exactly one piece at the last position for the target (and foil)? Then
    any objective is a function of those logits alone."""
    return not row.pool and all(
        not x.inserted and len(x.scored) == 1 and x.scored[0][0] == last for x in row.layouts
    )


def _value(logits: torch.Tensor, row: RowSpec) -> torch.Tensor:
    """F (1,) of a row that reads only the last position's logits (V,), with their graph:
    each of its layouts (target, foil) reads that one row of logits."""
    picked = logits.expand(len(row.layouts), 1, -1)  # (S, 1, V)
    return row_values([row.reads], picked)  # (1,)


@dataclass(frozen=True, eq=False)
class SharedFirstPass:
    """The graph of one forward on several prompts, right-padded, kept until
    `shared_gradients` backpropagates."""

    inputs: torch.Tensor  # (N, W, H) leaf the graph starts from, right-padded with zeros
    logits: torch.Tensor  # (N, V) float logits at each prompt's last position (with grad)
    predictions: tuple[tuple[Prediction, ...], ...]  # per prompt


def shared_first_pass(lm: LoadedModel, encs: Sequence[Encoded], k: int) -> SharedFirstPass:
    """The top-k forward of next-token prompts in one right-padded call, with gradients under
    enable_grad (for `shared_gradients`), without under no_grad (the predictions alone): mask
    0 on the padding changes no real position's logits."""
    width = max(len(e.ids) for e in encs)
    ids = torch.zeros(len(encs), width, dtype=torch.long, device=lm.device)  # (N, W)
    mask = torch.zeros_like(ids)  # (N, W)
    for i, e in enumerate(encs):
        ids[i, : len(e.ids)] = torch.tensor(e.ids, device=lm.device)
        mask[i, : len(e.ids)] = 1
    with torch.no_grad():
        x = lm.embed(ids) * mask.unsqueeze(-1)  # (N, W, H): zeros on the padding
    x = x.clone().requires_grad_()  # (N, W, H)
    last = [len(e.ids) - 1 for e in encs]
    keep = sorted(set(last))
    where = torch.tensor([keep.index(p) for p in last], device=lm.device)  # (N,)
    rows = torch.arange(len(encs), device=lm.device)  # (N,)
    keep_t = torch.tensor(keep, device=lm.device)  # (P,)
    picked = model_calls.logits_at(lm, keep_t, embeds=x, mask=mask)  # (N, P, V)
    logits = picked[rows, where].float()  # (N, V)
    log_probs = torch.log_softmax(logits.detach(), -1)  # (N, V)
    preds = tuple((_top_k(lm, log_probs[i], k, "next_token", None, ""),) for i in range(len(encs)))
    return SharedFirstPass(x, logits, preds)


def shared_gradients(
    first: SharedFirstPass, picks: list[int], rows: list[RowSpec]
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """F(x) (M,) and ∂F/∂x (M, W', H) of prompt `picks[m]`'s row `rows[m]`, W' the longest of
    them, from the shared pass's logits with one backward; None where a row reads more."""
    lengths = [len(r.target.ids) for r in rows]
    if not all(_reads_last_logits(r, n - 1) for r, n in zip(rows, lengths, strict=True)):
        return None
    values = [_value(first.logits[m], r) for m, r in zip(picks, rows, strict=True)]
    value = torch.cat(values)  # (M,)
    (grad,) = torch.autograd.grad(value.sum(), first.inputs)  # (N, W, H): rows independent
    index = torch.tensor(picks, device=grad.device)  # (M,)
    return value.detach(), grad[index, : max(lengths)]  # (M,), (M, W', H)
