"""What the page calls when `WHYWORD_BACKEND` is a Ray Serve address: plain HTTP, no ray."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from whyword.errors import WhyWordError
from whyword.models.load import LoadedModel
from whyword.results.explanation import Candidate, Explanation, Prediction
from whyword.runtime.options import DEFAULT_METHODS, ExplainOptions

TIMEOUT_S = 600.0


class RayBackend:
    """`explain` / `predictions` answered by the deployment at `address` (http://host:port)."""

    def __init__(self, address: str) -> None:
        self.address = address.rstrip("/") + "/"

    @staticmethod
    @lru_cache(maxsize=8)
    def at(address: str) -> RayBackend:
        return RayBackend(address)

    def explain(
        self,
        text: str,
        target: int | str | None = None,
        foil: int | str | None = None,
        methods: Sequence[str] | str = DEFAULT_METHODS,
        model: str | LoadedModel | None = None,
        *,
        predictions: Sequence[Prediction] | None = None,  # recomputed by the backend
        options: ExplainOptions | None = None,
    ) -> Explanation:
        methods = (methods,) if isinstance(methods, str) else tuple(methods)
        body = {
            "op": "explain",
            "text": text,
            "target": target,
            "foil": foil,
            "methods": list(methods),
            "model": _name(model),
            "options": (options or ExplainOptions()).to_dict(),
        }
        return Explanation.from_dict(self._post(body))

    def predictions(
        self, model: str | LoadedModel | None, text: str, k: int, max_tokens: int | None = None
    ) -> tuple[Prediction, ...]:
        body = {
            "op": "predict",
            "text": text,
            "model": _name(model),
            "k": k,
            "max_tokens": max_tokens,
        }
        return tuple(
            Prediction(
                **{
                    **p,
                    "candidates": tuple(Candidate(**c) for c in p["candidates"]),
                    "pool": tuple(p["pool"]),
                }
            )
            for p in self._post(body)
        )

    def stats(self) -> dict[str, Any]:
        return self._post({"op": "stats"})

    def _post(self, body: dict[str, Any]) -> Any:
        data = json.dumps(body).encode()
        request = urllib.request.Request(
            self.address, data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                answer = json.loads(response.read().decode())
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise WhyWordError(
                f"The attribution backend at {self.address} does not answer ({error}): "
                "start it with `whyword serve`, or unset WHYWORD_BACKEND to explain in this process."
            ) from None
        if "error" in answer:
            raise WhyWordError(answer["error"])
        return answer["result"]


def _name(model: str | LoadedModel | None) -> str | None:
    return model.source if isinstance(model, LoadedModel) else model
