"""Colour scales shared by the HTML heatmap and the plotly figures.

Diverging (signed scores): red = supports the target, blue = speaks against it, centred on a
neutral grey at zero. Both halves are ColorBrewer RdBu, whose red and blue steps have nearly the
same lightness, so +s and −s look equally strong. Sequential (unsigned scores): one hue, purple,
so a magnitude is never read as "for" or "against".
"""

from __future__ import annotations

RGB = tuple[int, int, int]

NEUTRAL: RGB = (247, 247, 247)  # score 0, held tokens
RED_RAMP: tuple[RGB, ...] = (NEUTRAL, (244, 165, 130), (202, 0, 32))  # RdBu #f4a582, #ca0020
BLUE_RAMP: tuple[RGB, ...] = (NEUTRAL, (146, 197, 222), (5, 113, 176))  # RdBu #92c5de, #0571b0
PURPLE_RAMP: tuple[RGB, ...] = (NEUTRAL, (158, 154, 200), (84, 39, 143))  # Purples
TARGET_COLOUR = "#ca0020"  # the target bar: the colour of "supports the target"
FOIL_COLOUR = "#0571b0"  # the foil bar: the colour of "speaks against the target"
OTHER_COLOUR = "rgba(140, 140, 140, 0.55)"  # other bars: reads on light and dark backgrounds
DARK_TEXT = "#111111"
LIGHT_TEXT = "#ffffff"


def ramp(anchors: tuple[RGB, ...], t: float) -> RGB:
    """Piecewise-linear interpolation through evenly spaced anchors; t is clamped to [0, 1]."""
    t = min(1.0, max(0.0, t))
    pos = t * (len(anchors) - 1)
    i = min(int(pos), len(anchors) - 2)
    frac = pos - i
    lo, hi = anchors[i], anchors[i + 1]
    return tuple(round(a + (b - a) * frac) for a, b in zip(lo, hi, strict=True))  # type: ignore[return-value]


def diverging(t: float) -> RGB:
    """Colour of a scaled signed score t in [−1, 1]: the same step of red (t > 0) or blue."""
    return ramp(RED_RAMP if t >= 0 else BLUE_RAMP, abs(t))


def sequential(t: float) -> RGB:
    """Colour of a scaled magnitude t in [0, 1]."""
    return ramp(PURPLE_RAMP, t)


def hex_colour(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def luminance(rgb: RGB) -> float:
    """WCAG relative luminance of an sRGB colour."""

    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def text_colour(background: RGB) -> str:
    """Dark or white text, whichever contrasts more with the background."""
    dark, light = (17, 17, 17), (255, 255, 255)
    return DARK_TEXT if contrast(background, dark) >= contrast(background, light) else LIGHT_TEXT


def plotly_scale(kind: str, points: int = 11) -> list[list[float | str]]:
    """A plotly colorscale sampling the same ramps: `diverging` over [−1, 1], else [0, 1]."""
    scale = []
    for k in range(points):
        pos = k / (points - 1)
        rgb = diverging(2 * pos - 1) if kind == "diverging" else sequential(pos)
        scale.append([pos, "rgb({},{},{})".format(*rgb)])
    return scale
