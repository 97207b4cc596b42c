"""User-facing failures: each carries one sentence a person can act on."""


class WhyWordError(Exception):
    """A failure whose message is shown to the user as is (never a stack trace)."""


class ModelLoadError(WhyWordError):
    """A model name or folder that cannot be loaded as a causal or masked LM."""


class InputError(WhyWordError):
    """Text or options that cannot be explained as given."""


class TargetError(WhyWordError):
    """A target or foil that the model's vocabulary cannot represent."""


class MissingExtraError(WhyWordError, ImportError):
    """An optional part whose packages are not installed; the message names the pip command."""


ECHO = 60  # characters of a user's input a message quotes at most


def shown(value: object, limit: int = ECHO, quoted: bool = True) -> str:
    """`value` as an error message quotes it: text in quotes (`quoted=False`: bare, as after
    "k=") with its invisible characters written as escapes (NUL as \\x00, an unpaired surrogate
    as \\ud800, so the sentence stays one printable line), anything else as its repr; cut to
    `limit` characters, with the length said.

    >>> shown("magic"), shown(5), shown("x" * 100)[-19:]
    ("'magic'", '5', "…' (100 characters)")
    """
    if isinstance(value, str):
        inner = "".join(ch if ch.isprintable() else _escape(ch) for ch in value[: limit + 1])
        mark = "'" if quoted else ""
        if len(value) <= limit and len(inner) <= limit:
            return f"{mark}{inner}{mark}"
        return f"{mark}{inner[: limit - 1]}…{mark} ({len(value):,} characters)"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 3 * limit:
        digits = int(value.bit_length() * 0.30103) + 1  # str() of a huge int is refused (4300)
        digits -= 10 ** (digits - 1) > abs(value)  # the estimate is one too many at most
        return f"a {'negative ' if value < 0 else ''}number of {digits:,} digits"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 — an object whose repr fails still gets a sentence
        text = f"<{type(value).__name__}>"
    text = "".join(ch if ch.isprintable() else _escape(ch) for ch in text)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
