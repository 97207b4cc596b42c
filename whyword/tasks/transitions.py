"""The transition-score table of a stepped session: every appended token's log-prob, rank and
entropy in the model's raw distribution and in the warped one it was picked from.

A clicked token's row comes from the logits the chart already showed (`step_from_logits`, no
model call); a run of tokens (auto-complete, a share link) from one teacher-forced no-grad
forward over the whole sequence (`transition_steps`). Both compute as `generate`'s table does
(`whyword.tasks.generate.step_scores`).
"""

from __future__ import annotations

import torch

from whyword.models import calls as model_calls
from whyword.models.load import LoadedModel
from whyword.tasks.generate import SCORES_FROM, Step, step_scores
from whyword.tasks.stepper import NO_WARP, Session, Warp, warp_logits
from whyword.text.tokens import make_tokens


@torch.no_grad()
def transition_steps(lm: LoadedModel, session: Session, warp: Warp = NO_WARP) -> tuple[Step, ...]:
    """One `Step` per appended token (empty when nothing was appended)."""
    n = len(session.appended)
    if n == 0:
        return ()
    ids = torch.tensor([session.ids], device=lm.device)  # (1, T)
    with lm.lock:
        logits = model_calls.logits(lm, ids=ids)[0].float().cpu()  # (T, V')
    first = len(session.prompt) - 1  # the prompt's last position predicted the first new token
    raw = logits[first : first + n, : lm.vocab_size]  # (S, V)
    return _steps(lm, raw, session.appended, warp, 1)


def step_from_logits(
    lm: LoadedModel, logits: torch.Tensor, token_id: int, warp: Warp, number: int
) -> Step:
    """The row of token `token_id` picked as step `number` from these logits (V,)."""
    return _steps(lm, logits[None], (token_id,), warp, number)[0]


def _steps(lm, raw: torch.Tensor, ids, warp: Warp, first: int) -> tuple[Step, ...]:
    n = len(ids)
    warped = tuple(warp_logits(raw[s], warp)[None] for s in range(n))  # S × (1, V)
    new_ids = torch.tensor(ids)  # (S,)
    w = step_scores(new_ids, warped, None)
    r = step_scores(new_ids, tuple(raw[:, None]), None)  # S × (1, V)
    tokens = make_tokens(lm.tokenizer, ids)
    return tuple(
        Step(
            step=first + i,
            token=tokens[i],
            log_prob=float(w[0][i]),
            rank=int(w[1][i]),
            entropy=float(w[2][i]),
            raw_log_prob=float(r[0][i]),
            raw_rank=int(r[1][i]),
            raw_entropy=float(r[2][i]),
        )
        for i in range(n)
    )


__all__ = ["SCORES_FROM", "step_from_logits", "transition_steps"]
