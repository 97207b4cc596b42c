"""Attribution methods as registered objects that carry their own traits (torch-free).

Like Captum's `GradientAttribution` / `PerturbationAttribution` (and `has_convergence_delta()`)
or Inseq's `FeatureAttribution`, a `Method` says what it is — its label, whether its scores are
signed, whether they add up (completeness), what it costs, which options it reads — so no other
module keeps a list of method names: the engine asks `shares_calls` / `reads_gradient`, the
scheduler `evaluations`, the page `one_pass` / `refines`, results `params` to rebuild them.
`register_method` adds one; `whyword.attr` registers the built-ins (one module each).

Rendering reads the same objects (labels, descriptions) without importing torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from whyword.errors import InputError
from whyword.runtime.registry import Registry

Runner = Callable[[Any, Any], Any]  # (whyword.attr.Problem, params) -> whyword.attr.MethodOutput
Evaluations = Callable[[int, Any], int]  # (tokens, ExplainOptions) -> evaluations of F per row


def one_evaluation(tokens: int, options: Any) -> int:
    """The default cost model: one forward + backward per row, whatever the length."""
    return 1


@dataclass(frozen=True)
class Method:
    """An attribution method: `run(problem, params) -> MethodOutput` and its traits."""

    name: str
    run: Runner
    label: str  # how results and the docs name it
    description: str = ""  # how to read its scores (shown under the heatmap)
    short_label: str = ""  # the page's checkbox (default: the label)
    signed: bool = True  # False: magnitudes only, no "against" direction
    completeness: bool = False  # scores add up to F(input) − F(baseline): a trust panel applies
    # its baseline keeps the held tokens (special tokens, a causal model's first token) at
    # their real embedding: their scores are 0 and the result says which they are (IG)
    holds_anchors: bool = False
    # costs about one forward + backward: the page shows it first when slower ones also run
    one_pass: bool = False
    # needs only F and ∂F/∂x at the real input (`attr.problem.input_gradients`): the pass that
    # reads the predictions supplies them, so it adds no model call of its own
    reads_gradient: bool = False
    # runs on several requests' inputs right-padded into one Problem (attention mask 0 on the
    # padding) and gives each the scores it gets alone: a class's requests share calls
    shares_calls: bool = False
    refines: bool = False  # reports its scores so far as it refines (`Problem.report`, IG)
    # its typed parameters: a frozen dataclass with `from_options(ExplainOptions)`; None: none
    params: type | None = None
    evaluations: Evaluations = field(default=one_evaluation)  # evaluations of F per row
    extra: str = ""  # the optional package it needs, e.g. "lxt" (installed separately)

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str) or not callable(self.run):
            raise InputError("A method needs a name and a function (problem, params) -> scores.")
        if self.params is not None and not callable(getattr(self.params, "from_options", None)):
            raise InputError(
                f"The parameters of method '{self.name}' need a from_options(options) classmethod."
            )
        if not self.short_label:
            object.__setattr__(self, "short_label", self.label)

    def params_for(self, options: Any) -> Any:
        """Its typed parameters from `ExplainOptions` (None for a method without any)."""
        return None if self.params is None else self.params.from_options(options)

    def params_from_dict(self, data: dict[str, Any]) -> Any:
        """Its typed parameters rebuilt from JSON (a dict where it has no type)."""
        if self.params is None:
            return dict(data)
        names = {f.name for f in fields(self.params)}
        return self.params(**{k: v for k, v in data.items() if k in names})

    def cost(self, tokens: int, options: Any) -> int:
        """Tokens × evaluations of F a row may take, at most (the scheduler's lanes)."""
        return tokens * max(1, int(self.evaluations(tokens, options)))


METHODS: Registry[Method] = Registry("method")


def add_method(method: Method, *, overwrite: bool = False) -> Method:
    """Put `method` in the registry; a name that exists is refused unless `overwrite`."""
    return METHODS.add(method.name, method, overwrite=overwrite)


def register_method(
    name: str, run: Runner, *, label: str | None = None, overwrite: bool = False, **traits: Any
) -> Method:
    """Register `run(problem, params) -> MethodOutput` under `name` with its traits (see
    `Method`: signed, completeness, shares_calls, reads_gradient, one_pass, refines,
    holds_anchors, params, evaluations, description, short_label, extra). The engine, the
    scheduler, the command line and the page then use it like a built-in."""
    unknown = sorted(set(traits) - {f.name for f in fields(Method)})
    if unknown:
        raise InputError(f"Unknown method trait(s): {', '.join(unknown)}.")
    method = Method(name, run, label or name, **traits)
    return add_method(method, overwrite=overwrite)


def get_method(name: str) -> Method:
    return METHODS.find(name)


def method_names(methods: Any) -> tuple[str, ...]:
    """`methods` (a name or names) checked against the registry, duplicates dropped."""
    names = (methods,) if isinstance(methods, str) else tuple(dict.fromkeys(methods))
    if not names:
        raise InputError(f"Pick at least one method: {', '.join(METHODS)}.")
    for name in names:
        get_method(name)  # unknown names fail before any work
    return names


def shares_calls(methods: Any) -> bool:
    """Can requests with these methods run in shared, right-padded calls?"""
    return bool(methods) and all(get_method(m).shares_calls for m in methods)


def reads_gradient(methods: Any) -> bool:
    """Does any of these methods read F and ∂F/∂x at the real input?"""
    return any(get_method(m).reads_gradient for m in methods)
