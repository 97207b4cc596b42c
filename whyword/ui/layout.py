"""Where the page was built before it became a package of views; kept for old imports."""

from whyword.ui.app import CONCURRENCY, EXAMPLES_FILE, QUEUE_SIZE, build_demo, load_examples

__all__ = ["CONCURRENCY", "EXAMPLES_FILE", "QUEUE_SIZE", "build_demo", "load_examples"]
