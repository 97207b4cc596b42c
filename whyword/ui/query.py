"""The page's settings, defined once: each field of `Query` is a control, declared with its
default, its kind of value (how a share link reads and writes it and how its widget's value is
read back; params.py), its range, where the view puts it and its widget (widgets.py). Its URL
name in a share link is the field's name.

Adding a control is one field here: share.py (the links), the sidebar (app.py), the views and
`Controls` all follow `CONTROLS`. No gradio at import (widgets import it when built), so
share.py and the handlers stay gradio-free.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from whyword.models.limits import Limits
from whyword.runtime.options import BASELINES, PAGE_MAX_STEPS, PAGE_METHODS, ExplainOptions
from whyword.ui import params, widgets
from whyword.ui.params import Kind, Span

NORMALISATIONS = ("per_method", "shared", "none")
LEVELS = ("token", "word")  # what a heatmap chip is
_LIBRARY = ExplainOptions()  # every default the page shares with the library, defined there


@dataclass(frozen=True)
class Control:
    """One setting. `key`: its Query field and URL name; `kind`: how a link and its widget are
    read (params.py); `place`: where the view puts it ("text": beside the text, "sidebar",
    "advanced": the sidebar's accordion, "pickers": by the chart, "heatmap": over the heatmap);
    `make`: its widget; `span`: a number's range, its top capped by the server's `limit`
    (a Limits field); `always`: in every share link (the view's identity), else only when not
    the default; `from_link`: a link sets its widget (target, foil, mask come with the result)."""

    key: str
    default: Any
    kind: Kind
    place: str
    make: widgets.Make
    span: Span | None = None
    limit: str | None = None
    always: bool = False
    from_link: bool = True


def control(default: Any, kind: Kind, place: str, make: widgets.Make, **more: Any) -> Any:
    """A `Query` field that is a control (see `Control`; its key is the field's name)."""
    spec = {"kind": kind, "place": place, "make": make, **more}
    return field(default=default, metadata={"control": spec})


@dataclass(frozen=True)
class Query:
    """Everything the page needs to reproduce one view: one field per control, in the order a
    share link writes them."""

    text: str = control("", params.TEXT, "text", widgets.text_box, always=True)
    model: str = control("default", params.NAME, "sidebar", widgets.model_menu, always=True)
    # "" = top-1, "id:<token id>", or a word / token text
    target: str = control(
        "", params.TEXT, "pickers", widgets.target_menu, always=True, from_link=False
    )
    # "" = no foil (plain log p(target))
    foil: str = control("", params.TEXT, "pickers", widgets.foil_menu, always=True, from_link=False)
    methods: tuple[str, ...] = control(  # options.py says why these
        PAGE_METHODS, params.METHOD_LIST, "sidebar", widgets.method_boxes, always=True
    )
    steps: int = control(  # IG: gradient evaluations of the first pass
        _LIBRARY.n_steps,
        params.WHOLE,
        "sidebar",
        widgets.slider(4, "IG steps", "ww-steps"),
        span=(4, 256),
        limit="max_steps",
        always=True,
    )
    max_steps: int = control(  # IG: adaptive refinement budget (≤ steps: no refinement)
        PAGE_MAX_STEPS,
        params.WHOLE,
        "advanced",
        widgets.slider(
            16,
            "IG refinement: up to this many steps until the error ≤ 5 % (≤ IG steps: off)",
            "ww-max-steps",
        ),
        span=(0, 512),
        limit="max_steps",
    )
    baseline: str = control(
        _LIBRARY.baseline,
        params.choice(tuple(BASELINES)),
        "sidebar",
        widgets.radio(list(BASELINES), "IG / occlusion baseline", "ww-baseline"),
        always=True,
    )
    k: int = control(
        _LIBRARY.k,
        params.WHOLE,
        "sidebar",
        widgets.slider(1, "Top-k", "ww-k"),
        span=(1, 30),
        limit="max_k",
        always=True,
    )
    mask: int = control(  # which [MASK] (0-based) is explained
        0,
        params.WHOLE,
        "pickers",
        widgets.mask_menu,
        span=(0, 100_000),
        always=True,
        from_link=False,
    )
    samples: int = control(
        _LIBRARY.nt_samples,
        params.WHOLE,
        "advanced",
        widgets.slider(1, "SmoothGrad samples"),
        span=(1, 50),
        limit="max_samples",
    )
    noise: float = control(  # SmoothGrad noise, fraction of the embeddings' stdev
        _LIBRARY.noise,
        params.REAL,
        "advanced",
        widgets.slider(0.05, "SmoothGrad noise (× embedding stdev)"),
        span=(0.0, 1.0),
    )
    special: bool = control(  # special tokens count in the colour scale
        False,
        params.FLAG,
        "advanced",
        widgets.checkbox("Include special tokens in the colour scale"),
    )
    normalise: str = control(
        "per_method",
        params.choice(NORMALISATIONS),
        "advanced",
        widgets.radio(list(NORMALISATIONS), "Colour scale (normalisation)"),
    )
    level: str = control(  # the heatmaps per token or per word (the core's segments)
        "token",
        params.choice(LEVELS),
        "advanced",
        widgets.radio(
            [("tokens", "token"), ("words", "word")],
            "Heatmap chips: tokens or whole words",
            "ww-level",
            "Words add up their tokens' scores (saliency: the L2 norm).",
        ),
    )
    numbers: bool = control(  # each chip shows its score on it (for a class)
        False,
        params.FLAG,
        "heatmap",
        widgets.checkbox("Numbers on the words (each one's score)", "ww-numbers"),
    )
    presenter: bool = control(  # large type, results first, settings tucked away (a projector)
        False, params.FLAG, "text", widgets.checkbox("Presenter mode", "ww-presenter")
    )

    def with_(self, **changes: Any) -> Query:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Query:
        values = {c.key: data[c.key] for c in CONTROLS if c.key in data}
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


CONTROLS: tuple[Control, ...] = tuple(
    Control(key=f.name, default=f.default, **f.metadata["control"]) for f in fields(Query)
)
BY_KEY = {control.key: control for control in CONTROLS}
DEFAULT = Query()
SPANS = {c.key: c.span for c in CONTROLS if c.span is not None}


@dataclass(frozen=True, init=False)
class Bounds:
    """The ranges of the page's numeric controls (its sliders' ends), `bounds.<key>`: a link
    outside them is changed to fit, and the page says so. Unnamed keys keep their `span`."""

    ranges: tuple[tuple[str, Span], ...]

    def __init__(self, **ranges: Span) -> None:
        unknown = set(ranges) - set(SPANS)
        if unknown:
            raise ValueError(f"no numeric control called {', '.join(sorted(unknown))}")
        object.__setattr__(self, "ranges", tuple({**SPANS, **ranges}.items()))

    def __getattr__(self, key: str) -> Span:
        for name, span in self.__dict__.get("ranges", ()):
            if name == key:
                return span
        raise AttributeError(key)


PAGE_BOUNDS = Bounds()


def bounds_for(limits: Limits) -> Bounds:
    """The sliders' ranges under this server's limits (hosted servers allow less); a share
    link is fitted to them."""
    capped = {}
    for c in CONTROLS:
        if c.span is not None and c.limit is not None:
            capped[c.key] = (c.span[0], min(c.span[1], getattr(limits, c.limit)))
    return Bounds(**capped)


def make(key: str, limits: Limits) -> Any:
    """The widget of control `key` (a gradio component), showing its default."""
    control = BY_KEY[key]
    return control.make(control, limits, bounds_for(limits))


class Controls:
    """The widgets a `Query` is read from (and written back to from a share link), by key."""

    def __init__(self, widgets: dict[str, Any]):
        missing = set(BY_KEY) - set(widgets)
        if missing:
            raise ValueError(f"controls without a widget: {', '.join(sorted(missing))}")
        self.widgets = dict(widgets)

    def __getattr__(self, key: str) -> Any:
        widgets = self.__dict__.get("widgets", {})
        if key in widgets:
            return widgets[key]
        raise AttributeError(key)

    def all(self) -> list[Any]:
        return [self.widgets[control.key] for control in CONTROLS]

    def query(self, data: dict) -> Query:
        """The Query the widgets' values (gradio's `data` of an event) show."""
        values = {c.key: c.kind.read(data[self.widgets[c.key]], c.default) for c in CONTROLS}
        return Query(**values)

    def values(self, query: Query, keys: Iterable[str] | None = None) -> dict:
        """Updates that show `query` in the controls; only `keys` (a share link's) if given."""
        shown = {c.key for c in CONTROLS if c.from_link}
        wanted = shown if keys is None else set(keys) & shown
        data = query.to_dict()
        return {self.widgets[key]: data[key] for key in wanted}
