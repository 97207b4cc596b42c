"""`whyword serve`: start a local Ray Serve app with the attribution backend (Ctrl-C stops it).

whyword serve --replicas 2 --port 8000
WHYWORD_BACKEND=http://127.0.0.1:8000 whyword app      # the page, a thin front
"""

from __future__ import annotations

import argparse
import os
import socket
import threading
import time

START_DEADLINE_S = 300.0  # serve.run waits forever when the replicas cannot be placed


def add_command(sub) -> None:
    s = sub.add_parser(
        "serve",
        help='run the attribution backend on Ray Serve (needs pip install "whyword[serve]")',
        description=__doc__.splitlines()[0],
    )
    s.add_argument("--replicas", type=int, default=1, help="model replicas (default 1)")
    s.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: all)")
    s.add_argument("--model", default=None, help="Hub id or local folder (default: embedded)")
    s.add_argument("--cpus", type=float, default=1.0, help="CPUs per replica (Ray's num_cpus)")
    s.add_argument("--threads", type=int, default=1, help="torch threads per replica")
    s.add_argument(
        "--address", default=None, help="an existing Ray cluster (e.g. auto); default: a local one"
    )
    s.set_defaults(run=run)


def start(
    replicas: int = 1,
    port: int = 8000,
    host: str = "127.0.0.1",
    model: str | None = None,
    cpus: float = 1.0,
    threads: int = 1,
    address: str | None = None,
    deadline: float = START_DEADLINE_S,
) -> str:
    """Start Ray (a local one unless `address`), then the app; its address, when it answers."""
    from whyword.extras import require

    ray = require("serve", "ray")
    serve = require("serve", "ray.serve")
    from whyword.serve.deployment import app

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_SERVE_QUEUE_LENGTH_RESPONSE_DEADLINE_S", "1")
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")
            ray.init(
                num_cpus=max(2, int(replicas * cpus + 0.999)),
                include_dashboard=False,
                _node_ip_address="127.0.0.1" if host == "127.0.0.1" else None,
                log_to_driver=False,
            )
    serve.start(http_options={"host": host, "port": port})
    failed: list[BaseException] = []

    def run_app() -> None:
        try:
            serve.run(app(model, replicas, cpus, threads), name="whyword", route_prefix="/")
        except BaseException as error:  # noqa: BLE001 — reported below
            failed.append(error)

    worker = threading.Thread(target=run_app, daemon=True)
    worker.start()
    worker.join(deadline)
    if worker.is_alive() or failed:
        why = failed[0] if failed else f"not running after {deadline:.0f} s"
        raise RuntimeError(
            f"The Ray Serve app did not start ({why}): the cluster may lack {replicas} × "
            f"{cpus} CPUs."
        )
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"


def stop() -> None:
    import ray
    from ray import serve

    serve.shutdown()
    ray.shutdown()


def run(args: argparse.Namespace) -> int:
    url = start(
        args.replicas, args.port, args.host, args.model, args.cpus, args.threads, args.address
    )
    print(f"WhyWord backend on Ray Serve at {url} ({args.replicas} replica(s)).")
    print(f"Start the page with: WHYWORD_BACKEND={url} whyword app")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stop()
    return 0


def free_port() -> int:
    """A free loopback port (Ray Serve cannot be given port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
