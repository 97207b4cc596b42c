"""AttnLRP's latent relevance (LXT): how much of the explained logit each attention head, each
block's MLP and each MLP neuron carries, from one forward and one backward under LXT's rules.

Under LXT's rules (whyword/attr/attnlrp.py) gradient × activation at any tensor inside the
model is that tensor's LRP relevance (Achtibat et al., 2024). Exactly, here:

- a **head**'s relevance is Σ_t Σ_k z_{t,k} · ∂F/∂z_{t,k} over every position t and the
  head's `head_dim` coordinates k of z, the attention's output *before* the output projection
  (the heads side by side, `o_proj` / `c_proj`'s input);
- an **MLP**'s is the same sum over the MLP's output (what the block's MLP adds to the stream);
- a **neuron**'s is the sum over positions at the MLP's down projection's input;
- the **attention** row is the sum over the attention's output after the projection. The heads
  add up to it up to the projection's bias (GPT-2 has one, the Llama family none), which LRP
  gives its share; the neurons add up to their MLP's likewise.

F is the target's logit (or target − foil) at the read position, the quantity LRP rules
conserve; it is not conserved exactly through the attention softmax, so shares are compared
with each other, not with the logit. In a causal model positions after the read one get none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from whyword.attr.attnlrp import attnlrp
from whyword.models import calls as model_calls
from whyword.models.anatomy import Anatomy
from whyword.models.heads import neurons
from whyword.models.load import LoadedModel


@dataclass(frozen=True, eq=False)
class LatentRelevance:
    """Every head's, MLP's and neuron's relevance for one objective, and the tokens'."""

    heads: torch.Tensor  # (L, heads)
    attention: torch.Tensor  # (L,): at the attention's output, after the projection
    mlps: torch.Tensor  # (L,)
    neurons: torch.Tensor  # (L, I)
    tokens: torch.Tensor  # (T,): at the input embeddings, as AttnLRP's token scores
    value: float  # F, the explained logit (or logit difference)

    def __post_init__(self) -> None:
        layers, heads = self.heads.shape
        assert self.attention.shape == self.mlps.shape == (layers,)
        assert self.neurons.shape[0] == layers and self.tokens.dim() == 1
        assert not any(t.requires_grad for t in (self.heads, self.mlps, self.neurons))


def latent_relevance(
    lm: LoadedModel,
    body: Anatomy,
    ids: torch.Tensor,
    score: Callable[[torch.Tensor], torch.Tensor],
) -> LatentRelevance:
    """LXT's relevance at every head, MLP and neuron of `lm` for `score(logits (1, T, V))`,
    on ids (1, T): one forward and one backward under AttnLRP's rules."""
    blocks = [body.block(i) for i in range(len(body.blocks))]
    downs = [neurons(body, i) for i in range(len(blocks))]
    projections = [b.out_proj for b in blocks]
    with attnlrp(lm), torch.enable_grad():
        embeds = lm.embed(ids).detach().clone().requires_grad_(True)  # (1, T, H) the leaf
        logits, into, out_of = model_calls.tapped_logits(
            lm,
            embeds,
            inputs_of=projections + downs,
            outputs_of=[b.attention for b in blocks] + [b.mlp for b in blocks],
        )
        value = score(logits)  # ()
        taps = [embeds, *into, *out_of]
        grads = torch.autograd.grad(value, taps)
    n = len(blocks)
    relevance = [(a.detach() * g)[0].float() for a, g in zip(taps, grads, strict=True)]
    tokens = relevance[0].sum(-1)  # (T,)
    z = relevance[1 : 1 + n]  # L × (T, heads · d)
    heads = torch.stack([r.reshape(r.shape[0], body.heads, -1).sum((0, 2)) for r in z])  # (L, h)
    cells = torch.stack([r.sum(0) for r in relevance[1 + n : 1 + 2 * n]])  # (L, I)
    attention = torch.stack([r.sum() for r in relevance[1 + 2 * n : 1 + 3 * n]])  # (L,)
    mlps = torch.stack([r.sum() for r in relevance[1 + 3 * n :]])  # (L,)
    return LatentRelevance(heads, attention, mlps, cells, tokens, float(value.detach()))
