"""The Ray Serve deployment: replicas of a `Worker`, requests gathered with `@serve.batch`.

Each replica loads its model once, pins torch to its CPU share (inside a replica torch starts
with 1 thread) and answers POSTed JSON requests (whyword/serve/work.py); requests arriving
together, from any user, reach `answer` as one list and share calls where they can.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from whyword.extras import require

serve = require("serve", "ray.serve")

MAX_BATCH = 16  # requests one replica gathers into a batch
BATCH_WAIT_S = 0.01  # how long a replica waits for more requests once one has arrived


@serve.deployment(
    max_ongoing_requests=2 * MAX_BATCH,  # @serve.batch fills batches only up to this
    logging_config={"enable_access_log": False},
)
class Backend:
    def __init__(self, model: str | None = None, threads: int = 1) -> None:
        import torch

        from whyword.serve.work import Worker

        torch.set_num_threads(max(1, threads))
        self.worker = Worker(model)

    async def __call__(self, request) -> Any:
        from starlette.responses import Response

        body = await request.json()
        if body.get("op") == "stats":
            answer = {"result": {"batch_sizes": self.worker.batch_sizes}}
        else:
            answer = await self.answer(body)
        return Response(json.dumps(answer), media_type="application/json")  # NaN allowed

    @serve.batch(max_batch_size=MAX_BATCH, batch_wait_timeout_s=BATCH_WAIT_S)
    async def answer(self, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.worker.answer, bodies)  # the event loop stays free


def app(model: str | None = None, replicas: int = 1, cpus: float = 1.0, threads: int = 1):
    """The bound application `serve.run` takes."""
    return Backend.options(num_replicas=replicas, ray_actor_options={"num_cpus": cpus}).bind(
        model, threads
    )


def build(args: dict[str, Any]):
    """The application builder a Serve config names (`import_path: whyword.serve.deployment:build`,
    `args: {model, replicas, cpus, threads}`), e.g. a KubeRay RayService."""
    return app(**args)
