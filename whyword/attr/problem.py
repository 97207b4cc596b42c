"""What every attribution method is given: F, the rows' input embeddings and their baselines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import torch

# F(embeds, mask, rows): (B, T, H), (B, T), (B,) long -> (B,): each example's row objective
ScoreFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True, eq=False)
class Problem:
    """R output rows over one input of T tokens: every method returns scores of shape (R, T).

    Row r's copy of the input embeddings is `inputs[r]`; F(embeds, mask, rows) evaluates each
    batch example's own row objective, so rows, IG steps and noise samples share batched calls.
    """

    forward: ScoreFn
    inputs: torch.Tensor  # (R, T, H) real input embeddings, one copy per row
    rows: torch.Tensor  # (R,) long: the output row each copy explains
    attention_mask: torch.Tensor  # (R, T)
    reference: torch.Tensor  # (R, T, H) the reference embedding (zero / pad / mask) per token
    # (R, T) bool: held at their real embedding in the IG baseline (a (T,) mask: every row's)
    anchors: torch.Tensor
    batch_rows: Callable[..., int]  # (tokens, grad=True, wide=False) -> rows per call (budget)
    baseline_name: str = "zero"
    path_forward: ScoreFn | None = None  # F of the tokens after a held first one (IG only)
    model: Any = None  # the LoadedModel, for methods that change how it backpropagates
    # F at the real inputs and ∂F/∂inputs, when the pass that read the predictions already
    # computed them (explain's one-pass route): (R,) values, (R, T, H) gradients
    primal: tuple[torch.Tensor, torch.Tensor] | None = None
    # Called by a method that refines (IG) with its output so far: (MethodOutput, final)
    observe: Callable[[Any, bool], None] | None = None

    def __post_init__(self) -> None:
        r, t, _ = self.inputs.shape
        assert self.rows.shape == (r,), "one row index per input copy"
        assert self.attention_mask.shape == (r, t) and self.reference.shape == self.inputs.shape
        if self.anchors.shape == (t,):
            object.__setattr__(self, "anchors", self.anchors.expand(r, t))  # (R, T)
        assert self.anchors.shape == (r, t), "one held-token mask per row"
        if self.primal is not None:
            assert self.primal[0].shape == (r,) and self.primal[1].shape == self.inputs.shape

    @property
    def n_rows(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def n_tokens(self) -> int:
        return int(self.inputs.shape[1])

    @property
    def baseline(self) -> torch.Tensor:
        """IG's start point: the reference, except anchors keep their real embedding."""
        return torch.where(self.anchors.unsqueeze(-1), self.inputs, self.reference)  # (R, T, H)

    def report(self, output: Any, final: bool) -> None:
        """Hand a refining method's output so far (a MethodOutput) to the observer, if any."""
        if self.observe is not None:
            self.observe(output, final)

    def args(self, index: torch.Tensor | slice = slice(None)) -> tuple[torch.Tensor, torch.Tensor]:
        """F's additional arguments for the selected copies: (mask, rows)."""
        return self.attention_mask[index], self.rows[index]  # (n, T), (n,)

    def call_rows(self, grad: bool = True, wide: bool = False) -> int:
        """Examples (rows of F, with all their sequences) one call may take: the budget.
        `wide`: a no-grad call under bf16 autocast, which gains from larger calls."""
        return max(1, self.batch_rows(self.n_tokens, grad=grad, wide=wide))

    def chunks(self, grad: bool = True) -> Iterator[tuple[slice, Problem]]:
        """The rows in groups one forward(/backward) can take under the memory budget."""
        size = self.call_rows(grad)
        for start in range(0, self.n_rows, size):
            part = slice(start, min(start + size, self.n_rows))
            yield part, self.select(part)

    def select(self, part: slice) -> Problem:
        return replace(
            self,
            inputs=self.inputs[part],
            rows=self.rows[part],
            attention_mask=self.attention_mask[part],
            reference=self.reference[part],
            anchors=self.anchors[part],
            primal=None if self.primal is None else (self.primal[0][part], self.primal[1][part]),
        )

    def path_problem(self) -> tuple[Problem, int]:
        """What IG integrates, and how many leading tokens it leaves out: with `path_forward`,
        the held first token is not fed again at every point of the path (its IG score is 0:
        it does not move)."""
        if self.path_forward is None:
            return self, 0
        assert bool(self.anchors[:, 0].all()), "path_forward skips the first token: it is held"
        problem = replace(
            self,
            forward=self.path_forward,
            inputs=self.inputs[:, 1:].detach(),  # (R, T−1, H)
            attention_mask=self.attention_mask[:, 1:],  # (R, T−1)
            reference=self.reference[:, 1:],  # (R, T−1, H)
            anchors=self.anchors[:, 1:],  # (R, T−1)
            path_forward=None,
            primal=None,
        )
        return problem, 1


def fixed_rows(rows: int) -> Callable[..., int]:
    """A budget of a fixed number of rows per call, whatever the length (tests, benchmarks)."""
    return lambda tokens, grad=True, wide=False: rows


def input_gradients(problem: Problem) -> tuple[torch.Tensor, torch.Tensor]:
    """F at the real inputs (R,) and ∂F/∂inputs (R, T, H): one forward+backward per chunk,
    or none when the problem already carries them (`primal`). Each row's own copy of the
    input gets its own gradient (F sums over independent rows), as Captum's Saliency."""
    if problem.primal is not None:
        return problem.primal[0].detach(), problem.primal[1].detach()
    values, grads = [], []
    for _, chunk in problem.chunks():
        inputs = chunk.inputs.detach().requires_grad_()  # (r, T, H) a fresh leaf
        out = chunk.forward(inputs, *chunk.args())  # (r,)
        (grad,) = torch.autograd.grad(out.sum(), inputs)  # (r, T, H)
        values.append(out.detach())
        grads.append(grad)
    return torch.cat(values), torch.cat(grads)  # (R,), (R, T, H)
