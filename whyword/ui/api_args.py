"""How the API endpoints read their arguments. A script sends plain JSON values, and any of them
may be of the wrong kind: each is read by name into the value the page would hold, or refused
with one WhyWord sentence that names the argument and quotes at most `errors.ECHO` characters of
what was sent (never an AttributeError or gradio's generic "upstream app raised an exception").

`endpoint` is what every route goes through: its arguments checked against its signature, a
user's mistake logged as one line, anything else logged with its traceback and answered with
the generic sentence. No gradio here (app.py turns a WhyWordError into the gr.Error a client
reads).
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import Any, TypeVar

from whyword.errors import InputError, WhyWordError, shown
from whyword.ui.mistakes import failure, user_mistake

F = TypeVar("F", bound=Callable[..., Any])
MAX_NUMBER_CHARS = 400  # a number sent as text longer than this is refused unread
GENERIC_ERROR = (
    "Something went wrong on the server while answering this request. The error was logged; "
    "try again, or try a shorter text or another model."
)


def text(name: str, value: Any) -> str:
    """A text argument: a string (None: empty)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"The {name} must be a string, got {shown(value)}.")
    return value


def name(label: str, value: Any, default: str) -> str:
    """A name (a model, a baseline, a corpus…): a string; blank means `default`."""
    if value is None:
        return default
    if not isinstance(value, str):
        raise InputError(f"The {label} must be a name (a string), got {shown(value)}.")
    return value.strip() or default


def whole(label: str, value: Any) -> int:
    """A whole number: 3, 3.0 and "3" are fine; a bool, NaN, ±inf, 3.5 or "three" are not."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number: Any = None
    if isinstance(value, float):
        number = value
    elif isinstance(value, str) and len(value) > MAX_NUMBER_CHARS:
        raise InputError(f"{label} is {shown(value)}: too long to be a number.")
    elif isinstance(value, str):
        raw = value.strip()
        try:
            return int(raw)
        except ValueError:
            try:
                number = float(raw)
            except ValueError:
                number = None
    if number is None or not math.isfinite(number) or not number.is_integer():
        raise InputError(f"{label} must be a whole number, got {shown(value)}.")
    return int(number)


def real(label: str, value: Any) -> float:
    """A finite number: 0.5 and "0.5" are fine; a bool, NaN, ±inf or "half" are not."""
    number: Any = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = float(value) if value.bit_length() < 1000 else math.inf
    elif isinstance(value, float):
        number = value
    elif isinstance(value, str) and len(value) > MAX_NUMBER_CHARS:
        raise InputError(f"{label} is {shown(value)}: too long to be a number.")
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or math.isnan(number):
        raise InputError(f"{label} must be a number, got {shown(value)}.")
    if not math.isfinite(number):
        raise InputError(f"{label} must be a finite number, got {shown(value)}.")
    return number


def names(label: str, value: Any) -> tuple[str, ...]:
    """Comma-separated names ("saliency,occlusion") or a list of them."""
    if value is None:
        return ()
    if isinstance(value, str):
        parts: list[Any] = value.split(",")
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        raise InputError(f"The {label} must be names separated by commas, got {shown(value)}.")
    if not all(isinstance(p, str) for p in parts):
        raise InputError(f"The {label} must be names (strings), got {shown(value)}.")
    return tuple(p.strip() for p in parts if p.strip())


def target(label: str, value: Any) -> str:
    """A target or foil as the page holds it: "" (top-1 / none), a word, or "id:<n>" (an int
    is a token id)."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > 63:  # no vocabulary is that large (and str() refuses 4,300 digits)
            raise InputError(f"The {label} {shown(value)} is not a token id of any model.")
        return f"id:{value}"
    if not isinstance(value, str):
        raise InputError(
            f"The {label} must be a word or a token id ('id:123'), got {shown(value)}."
        )
    return value


def endpoint(route: str) -> Callable[[F], F]:
    """The route `fn` as an endpoint: arguments that do not fit its signature, and every
    WhyWordError, are one sentence (logged as one line); any other failure is logged with its
    traceback and answered with `GENERIC_ERROR`."""

    def wrap(fn: F) -> F:
        signature = inspect.signature(fn)

        @functools.wraps(fn)  # gradio reads the signature and the docstring through this
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                problem = arguments_problem(route, signature, args, kwargs)
                if problem is not None:
                    raise InputError(problem)
                return fn(*args, **kwargs)
            except WhyWordError as error:
                user_mistake(f"/{route}", error)
                raise
            except Exception:  # noqa: BLE001 — a bug: the trace in the log, a sentence out
                failure(f"/{route}")
                raise WhyWordError(GENERIC_ERROR) from None

        return call  # type: ignore[return-value]

    return wrap


def arguments_problem(
    route: str, signature: inspect.Signature, args: tuple, kwargs: dict[str, Any]
) -> str | None:
    """One sentence when `args` / `kwargs` do not fit `signature`, else None."""
    params = list(signature.parameters)
    takes = f"/{route} takes {', '.join(params)}"
    if len(args) > len(params):
        return f"{takes}: {len(params)} values at most, got {len(args)}."
    unknown = [k for k in kwargs if k not in params]
    if unknown:
        return f"{takes}; it has no argument {shown(unknown[0])}."
    twice = [p for p in params[: len(args)] if p in kwargs]
    if twice:
        return f"{takes}; {twice[0]} was given twice."
    given = set(params[: len(args)]) | set(kwargs)
    missing = [
        p
        for p, spec in signature.parameters.items()
        if spec.default is spec.empty and p not in given
    ]
    if missing:
        return f"{takes}; {', '.join(missing)} is missing."
    return None
