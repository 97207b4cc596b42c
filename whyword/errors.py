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
