"""What a server lets its users ask for: model allowlist, local paths, and size caps.

Hosted mode (a shared Space) is on when WHYWORD_HOSTED=1, or automatically on a Hugging Face
Space (SPACE_ID is set) unless WHYWORD_HOSTED=0. The library itself applies no caps beyond
the model's own; the app checks every request against `current_limits()`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from whyword.errors import InputError, shown
from whyword.models.load import looks_like_path
from whyword.runtime import settings

DEFAULT_MODEL_CHOICES = settings.MODELS.default


@dataclass(frozen=True)
class Limits:
    hosted: bool
    models: tuple[str, ...]  # offered in the model selector; the allowlist in hosted mode
    any_model: bool  # a free-text Hub id may be typed
    local_paths: bool  # a local folder may be loaded
    max_chars: int  # longer text is refused with a message
    max_tokens: int  # longer tokenized input is refused with a message
    max_k: int
    max_steps: int  # IG gradient evaluations (the cap of the adaptive refinement)
    max_samples: int  # SmoothGrad samples

    def check_model(self, name: str | None) -> str:
        """The model key to load, or an InputError saying why this server will not load it."""
        if name is not None and not isinstance(name, str):
            raise InputError(f"The model must be a name (a string), got {shown(name)}.")
        name = (name or "default").strip() or "default"
        if looks_like_path(name) and not self.local_paths:
            raise InputError("This server does not load models from local folders.")
        if not self.any_model and name not in self.models:
            raise InputError(f"This server only offers these models: {', '.join(self.models)}.")
        return name

    def check_text(self, text: object) -> None:
        if text is not None and not isinstance(text, str):
            raise InputError(f"The text must be a string, not {type(text).__name__}.")
        if text is not None and len(text) > self.max_chars:
            raise InputError(
                f"The text is {len(text):,} characters; this server takes at most {self.max_chars:,}."
            )

    def check_numbers(self, *, k: object, steps: object, samples: object) -> None:
        """Whole numbers from 1 to the cap, each refused with its own sentence."""
        for name, value, cap in (
            ("k", k, self.max_k),
            ("IG steps", steps, self.max_steps),
            ("SmoothGrad samples", samples, self.max_samples),
        ):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(f"{name} must be a whole number, got {shown(value)}.")
            if value < 1:
                raise InputError(f"{name} must be at least 1, got {shown(value)}.")
            if value > cap:
                raise InputError(f"{name} is {shown(value)}; this server allows at most {cap}.")

    def describe(self) -> str:
        """One line for the page and docs/security.md."""
        mode = "Hosted mode" if self.hosted else "Local mode"
        return (
            f"{mode}: text ≤ {self.max_chars:,} characters and {self.max_tokens} tokens, "
            f"top-k ≤ {self.max_k}, IG steps ≤ {self.max_steps}, SmoothGrad samples ≤ {self.max_samples}; "
            + (
                "models from the list only, no local folders"
                if not self.any_model
                else "any Hub id or local folder"
            )
            + "; a model's own code is never run."
        )


def is_hosted() -> bool:
    flag = settings.HOSTED.get()
    if flag is not None:
        return flag
    return bool(os.environ.get("SPACE_ID"))


def model_choices(hosted: bool = False) -> tuple[str, ...]:
    """The models offered: WHYWORD_MODELS (comma-separated) or the defaults; "default" first.

    Hosted, local folders are dropped from the list: they could not be loaded anyway.
    """
    names = settings.MODELS.get()
    if hosted:
        names = tuple(n for n in names if not looks_like_path(n))
    return names if "default" in names else ("default", *names)


def current_limits() -> Limits:
    """The limits in force now (read from the environment on each call)."""
    if is_hosted():
        return Limits(
            True,
            model_choices(hosted=True),
            any_model=False,
            local_paths=False,
            max_chars=2000,
            max_tokens=64,  # IG time ≈ steps × tokens × ~5 ms on 2 cores: ≤ ~15 s a request
            max_k=25,
            max_steps=128,  # binds only on the hardest paths (benchmarks/RESULTS.md)
            max_samples=32,
        )
    return Limits(
        False,
        model_choices(),
        any_model=True,
        local_paths=True,
        max_chars=20000,
        max_tokens=1024,
        max_k=100,
        max_steps=1024,
        max_samples=200,
    )
