"""Forward hooks that read or change one module's input or output, removed whatever happens.

Two kinds, both per module and both used by whyword/models/calls.py around a single call:
- a `Tap` keeps what a module reads or writes at a few positions (and its mean over all
  positions), never every position of every layer;
- a `Patch` overwrites some features of one batch row's tensor at every position — zero, or a
  fixed vector — so n ablations are n rows of one call, each with its own patch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import torch


@dataclass(frozen=True, eq=False)
class Tap:
    """Keep `module`'s first input ("input") or its output ("output") of batch row 0."""

    module: torch.nn.Module
    where: str = "output"
    kept: list[torch.Tensor] = field(default_factory=list)  # [(P, W), (W,)] once run

    def __post_init__(self) -> None:
        assert self.where in ("input", "output")


@dataclass(frozen=True, eq=False)
class Patch:
    """In batch row `row`, set features `columns` of `module`'s input or output to `value`
    (W',) at every position; `value` None means zero."""

    row: int
    module: torch.nn.Module
    where: str
    columns: slice
    value: torch.Tensor | None = None

    def __post_init__(self) -> None:
        assert self.where in ("input", "output") and self.row >= 0


def _first(value):
    return value[0] if isinstance(value, tuple) else value


def _replace_first(value, tensor):
    return (tensor, *value[1:]) if isinstance(value, tuple) else tensor


@contextlib.contextmanager
def tapping(taps: Sequence[Tap], positions: torch.Tensor) -> Iterator[None]:
    """While inside, each tap keeps its tensor at `positions` (P,) and its mean over positions."""

    def keep(tap: Tap, hidden: torch.Tensor) -> None:
        hidden = hidden[0].detach()  # (T, W): batch row 0
        tap.kept[:] = [hidden[positions], hidden.float().mean(0)]  # (P, W), (W,)

    handles = []
    try:
        for tap in taps:
            if tap.where == "input":
                hook = _pre(lambda args, kwargs, tap=tap: keep(tap, _input(args, kwargs)))
                handles.append(tap.module.register_forward_pre_hook(hook, with_kwargs=True))
            else:
                hook = _post(lambda out, tap=tap: keep(tap, _first(out)))
                handles.append(tap.module.register_forward_hook(hook))
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextlib.contextmanager
def patching(patches: Sequence[Patch]) -> Iterator[None]:
    """While inside, every patch overwrites its row's features in every call."""
    by_module: dict[tuple[int, str], list[Patch]] = {}
    for patch in patches:
        by_module.setdefault((id(patch.module), patch.where), []).append(patch)

    def changed(hidden: torch.Tensor, mine: list[Patch]) -> torch.Tensor:
        hidden = hidden.clone()  # (B, T, W): never write into a tensor autograd or others hold
        for p in mine:
            if p.row < hidden.shape[0]:
                cols = hidden[p.row, :, p.columns]  # (T, W')
                hidden[p.row, :, p.columns] = 0.0 if p.value is None else p.value.to(cols.dtype)
        return hidden

    handles = []
    try:
        for (_, where), mine in by_module.items():
            module = mine[0].module
            if where == "input":

                def pre(module, args, kwargs, mine=mine):
                    if args:
                        return (changed(args[0], mine), *args[1:]), kwargs
                    return args, {**kwargs, "hidden_states": changed(kwargs["hidden_states"], mine)}

                handles.append(module.register_forward_pre_hook(pre, with_kwargs=True))
            else:

                def post(module, args, out, mine=mine):
                    return _replace_first(out, changed(_first(out), mine))

                handles.append(module.register_forward_hook(post))
        yield
    finally:
        for handle in handles:
            handle.remove()


def _input(args, kwargs) -> torch.Tensor:
    return args[0] if args else kwargs["hidden_states"]  # (1, T, W)


def _pre(fn):
    def hook(module, args, kwargs):
        fn(args, kwargs)

    return hook


def _post(fn):
    def hook(module, args, out):
        fn(out)

    return hook


@contextlib.contextmanager
def sharing(blocks: Sequence[torch.nn.Module], changed: Sequence[int], rows: int) -> Iterator[None]:
    """While inside, block i runs on its first `changed[i]` rows and one more: a call's rows
    sorted so that those its patches have not reached yet come last are, at block i, all the
    unpatched prompt — computed once (row `changed[i]`) and handed to each of them."""

    def narrow(value, keep: int):
        if isinstance(value, torch.Tensor) and value.dim() and value.shape[0] == rows:
            return value[:keep]  # (keep, …)
        if isinstance(value, tuple):
            return tuple(narrow(v, keep) for v in value)
        return value

    def pre_for(keep: int):
        def pre(module, args, kwargs):
            args = tuple(narrow(a, keep) for a in args)
            return args, {k: narrow(v, keep) for k, v in kwargs.items()}

        return pre

    def post_for(keep: int):
        def post(module, args, out):
            hidden = _first(out)  # (keep, T, H)
            same = hidden[keep - 1 :].expand(rows - keep + 1, *hidden.shape[1:])  # (·, T, H)
            return _replace_first(out, torch.cat([hidden[: keep - 1], same]))  # (rows, T, H)

        return post

    handles = []
    try:
        for block, first in zip(blocks, changed, strict=True):
            if first + 1 < rows:
                handles.append(block.register_forward_pre_hook(pre_for(first + 1), with_kwargs=True))
                handles.append(block.register_forward_hook(post_for(first + 1)))
        yield
    finally:
        for handle in handles:
            handle.remove()
