"""What the page calls to explain and predict: this process's scheduler, or a Ray Serve
deployment when `WHYWORD_BACKEND` is its address (whyword/serve/client.py, plain HTTP).

It lives in `serve/` because it may reach the deployment: the core (the scheduler, the
dispatcher, the engine) never imports `serve/`.
"""

from __future__ import annotations

from typing import Any

from whyword.results.explanation import Explanation
from whyword.runtime import settings
from whyword.serve.scheduler import scheduler


def backend():
    """A Ray Serve deployment when `WHYWORD_BACKEND` is its address (http://host:port), else
    this process's scheduler."""
    address = settings.BACKEND.get()
    if address:
        from whyword.serve.client import RayBackend

        return RayBackend.at(address)
    return scheduler()


def scheduled_explain(*args: Any, **kwargs: Any) -> Explanation:
    """`whyword.explain` through `backend()`: lanes and batching, or Ray Serve."""
    return backend().explain(*args, **kwargs)
