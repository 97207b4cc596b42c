"""The one place WhyWord's version is written: pyproject.toml, the CLI, the page and exports read it."""

__version__ = "0.1.0"
