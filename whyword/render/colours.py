"""Colour scales shared by the HTML heatmap and the plotly figures.

Diverging (signed scores): red = supports the target, blue = speaks against it, centred on a
neutral grey at zero, through ColorBrewer RdBu's colours. Both halves step evenly in perceived
lightness through steps of equal luminance, so +s and −s look exactly as strong. Sequential
(unsigned scores): one hue, purple, so a magnitude is never read as "for" or "against".
"""

from __future__ import annotations

RGB = tuple[int, int, int]

NEUTRAL: RGB = (247, 247, 247)  # score 0, held tokens
RED: RGB = (202, 0, 32)  # RdBu's red end, #ca0020: supports the target
BLUE: RGB = (4, 105, 163)  # RdBu's blue end, darkened to the red's luminance: against
PURPLE: RGB = (84, 39, 143)  # Purples' end: magnitude only
RED_STEPS: tuple[RGB, ...] = (NEUTRAL, (244, 165, 130), RED)  # RdBu #f4a582 in the middle
BLUE_STEPS: tuple[RGB, ...] = (NEUTRAL, (141, 191, 215), BLUE)  # RdBu #92c5de, same luminance
PURPLE_STEPS: tuple[RGB, ...] = (NEUTRAL, (158, 154, 200), PURPLE)
TARGET_COLOUR = "#ca0020"  # the target bar: the colour of "supports the target"
FOIL_COLOUR = "#0469a3"  # the foil bar: the colour of "speaks against the target"
OTHER_COLOUR = "rgba(140, 140, 140, 0.55)"  # other bars: reads on light and dark backgrounds
DARK_RGB: RGB = (0, 0, 0)  # pure black: with white on the dark cells, ≥ 4.5:1 on every cell
LIGHT_RGB: RGB = (255, 255, 255)
DARK_TEXT = "#000000"
LIGHT_TEXT = "#ffffff"


def ramp(steps: tuple[RGB, ...], t: float) -> RGB:
    """The colour a share t in [0, 1] along `steps` (each darker than the last), evenly spaced
    in perceived lightness (CIE L*) and mixed in linear light between neighbouring steps.
    Two ramps whose steps have equal luminance give equally light colours at every t: that
    is what makes the diverging scale mirrored."""
    t = min(1.0, max(0.0, t))
    ys = [luminance(c) for c in steps]
    y = _y_from_lstar(_lstar(ys[0]) + t * (_lstar(ys[-1]) - _lstar(ys[0])))
    i = next((k for k in range(len(ys) - 1) if y >= ys[k + 1]), len(ys) - 2)
    w = (ys[i] - y) / (ys[i] - ys[i + 1]) if ys[i] != ys[i + 1] else 0.0
    lo, hi = steps[i], steps[i + 1]
    mixed = ((1 - w) * _linear(a) + w * _linear(b) for a, b in zip(lo, hi, strict=True))
    return tuple(_srgb(c) for c in mixed)  # type: ignore[return-value]


def diverging(t: float) -> RGB:
    """Colour of a scaled signed score t in [−1, 1]: the same step of red (t > 0) or blue."""
    return ramp(RED_STEPS if t >= 0 else BLUE_STEPS, abs(t))


def sequential(t: float) -> RGB:
    """Colour of a scaled magnitude t in [0, 1]."""
    return ramp(PURPLE_STEPS, t)


def _linear(c: int) -> float:
    c = c / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _srgb(v: float) -> int:
    v = min(1.0, max(0.0, v))
    c = 12.92 * v if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055
    return round(255 * c)


def _lstar(y: float) -> float:
    return 116 * y ** (1 / 3) - 16 if y > 216 / 24389 else y * 24389 / 27


def _y_from_lstar(lstar: float) -> float:
    return ((lstar + 16) / 116) ** 3 if lstar > 8 else lstar * 27 / 24389


def hex_colour(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def luminance(rgb: RGB) -> float:
    """WCAG relative luminance of an sRGB colour."""

    r, g, b = (_linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def text_colour(background: RGB) -> str:
    """Dark or white text, whichever contrasts more with the background."""
    dark_wins = contrast(background, DARK_RGB) >= contrast(background, LIGHT_RGB)
    return DARK_TEXT if dark_wins else LIGHT_TEXT


def plotly_scale(kind: str, points: int = 11) -> list[list[float | str]]:
    """A plotly colorscale sampling the same scales: `diverging` over [−1, 1], else [0, 1]."""
    scale = []
    for k in range(points):
        pos = k / (points - 1)
        rgb = diverging(2 * pos - 1) if kind == "diverging" else sequential(pos)
        scale.append([pos, "rgb({},{},{})".format(*rgb)])
    return scale
