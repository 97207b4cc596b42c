"""Forward work a retarget reuses: the logits of sequences already run without gradients.

A student explains the top-1, clicks the 2nd bar, then sets a foil: three requests on one text
whose occlusion rows (each token at the reference in turn) and random-order curve inputs are
the very same sequences, read at the same positions — only the token scored there changes.
Their next-token logits are kept here, keyed by the sequence itself (a digest of its input
embeddings — inserted tokens included — and mask, the positions it is read at, the model's
weights object and device, and the arithmetic it ran in), so the second and third
requests run only the sequences that are new to them. Gradient calls are never cached.

Bounded in bytes (`WHYWORD_FORWARD_MB`, default 128; a row of logits is 4 × vocabulary bytes)
and off whenever the result cache is (`WHYWORD_CACHE_ENTRIES=0`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable

import torch

from whyword.runtime import settings
from whyword.runtime.bounded import BoundedCache
from whyword.runtime.cache_keys import model_key

DEFAULT_MB = settings.FORWARD_MB.default


def _limit() -> int:
    """`WHYWORD_FORWARD_MB` in bytes (a malformed value is a one-sentence error)."""
    return int(settings.FORWARD_MB.get() * 1024 * 1024)


# sequence key -> (P, V) logits at its scored positions, bounded in bytes; a key already held
# keeps its tensor (the same sequence gives the same logits)
LOGITS: BoundedCache[torch.Tensor] = BoundedCache(
    max_bytes=_limit, size=lambda logits: logits.numel() * logits.element_size()
)


def enabled(embeds: torch.Tensor) -> bool:
    """Cache this call? Only without gradients and while the result cache is on (its entries,
    `WHYWORD_CACHE_ENTRIES`, not 0)."""
    if embeds.requires_grad and torch.is_grad_enabled():
        return False
    return settings.CACHE_ENTRIES.get() > 0 and _limit() > 0


def sequence_keys(lm, fulls: list, masks: list, positions: list) -> list[Hashable]:
    """What makes each sequence's logits: the model, the inputs (inserted tokens included),
    the positions read, the arithmetic. `fulls`: (L_i, H) input embeddings; `masks`: (L_i,).
    One copy to the host for all of them (a GPU user pays one transfer, not one per row)."""
    lengths = [f.shape[0] for f in fulls]
    seqs = torch.cat([f.detach() for f in fulls]).cpu().split(lengths)  # (L_i, H) each
    marks = torch.cat(masks).cpu().split(lengths)  # (L_i,) each
    device = fulls[0].device.type
    autocast = torch.is_autocast_enabled(device) if device in ("cpu", "cuda") else False
    model = model_key(lm)
    keys = []
    for seq, mask, where in zip(seqs, marks, positions, strict=True):
        digest = hashlib.blake2b(digest_size=20)
        for t in (seq, mask):
            digest.update(t.contiguous().view(torch.uint8).numpy().tobytes())
        keys.append(
            (model, digest.hexdigest(), tuple(seq.shape), str(seq.dtype), tuple(where), autocast)
        )
    return keys
