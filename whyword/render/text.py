"""Escaping and formatting shared by every renderer: all displayed text goes through `esc`."""

from __future__ import annotations

import html
import math
import unicodedata

from whyword.results.explanation import Explanation
from whyword.results.methods import METHODS
from whyword.text.tokens import visible


def esc(text: object) -> str:
    """HTML-escape (quotes too) after making control characters visible: safe in text and
    attribute values, not for plotly (see `esc_plotly`)."""
    return html.escape(_no_controls(str(text)), quote=True)


def esc_plotly(text: object) -> str:
    """Text for a plotly label, title or hover: `& < >` as the entities plotly decodes back
    (it reads `<b>`, `<br>` as markup), quotes as they are (plotly shows `&quot;` literally)."""
    out = _no_controls(str(text)).replace("&", "&amp;")
    return out.replace("<", "&lt;").replace(">", "&gt;")


def _no_controls(text: str) -> str:
    """Control and other invisible format characters as `\\uXXXX`; newlines and tabs kept."""
    out = []
    for ch in text:
        if ch in "\n\t":
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Cs") or ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def method_label(name: str) -> str:
    """The registry's readable label (`Integrated gradients`), or the raw name if unknown."""
    method = METHODS.get(name)
    return method.label if method is not None else name


def method_description(name: str) -> str:
    method = METHODS.get(name)
    return method.description if method is not None else ""


def fmt_score(value: float) -> str:
    """A signed score with four decimals; scientific for tiny non-zero values."""
    if value != 0 and abs(value) < 1e-3:
        return f"{value:+.3e}"
    return f"{value:+.4f}"


def fmt_number(value: float | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def target_label(explanation: Explanation) -> str:
    """The target's readable label (`␣Paris`), not yet escaped."""
    return visible(explanation.target)


def foil_label(explanation: Explanation) -> str | None:
    return None if explanation.foil is None else visible(explanation.foil)
