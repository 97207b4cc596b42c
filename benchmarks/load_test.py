"""A class at once: N simulated students against a launched app, through gradio_client.

Loopback only, bounded (`--deadline` per run). Half the students use the teacher's example,
half their own prompt of 5–30 tokens; each asks for the predictions, an explanation of the
top-1, a bar click (explain the 2nd bar) and a foil (top-1 rather than the 2nd bar). Reports
throughput (requests/min), p50/p95/max latency, failures and queue-full answers, and checks
every concurrent answer against the same request computed alone (in this process, cache off).

    HF_HUB_OFFLINE=1 python benchmarks/load_test.py --students 1,10,30
    python benchmarks/load_test.py --students 30 --env WHYWORD_BATCHING=0     # no batching
    python benchmarks/load_test.py --students 30 --backend http://127.0.0.1:8000   # Ray Serve
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from whyword.runtime.options import PAGE_METHODS  # noqa: E402 — the page's default methods

TEACHER = "The capital of France is"
TEACHERS = [  # `--rounds`: the teacher's next examples (round r uses TEACHERS[r - 1])
    "The Eiffel Tower is located in the city of",
    "The chemical symbol for gold is",
    "A baby dog is called a",
    "The planet closest to the sun is",
]
OWN = [  # students' own prompts, 5 to 30 tokens
    "My favourite animal at the zoo is the",
    "After school we usually walk to the park and play",
    "The keys to the cabinet are on the",
    "Water boils at one hundred degrees",
    "In the morning the sun rises in the",
    "She opened the door and saw a",
    "The opposite of hot is",
    "Every year in December many families decorate a tree and give each other",
    "The first man to walk on the moon was",
    "Cats like to sleep in warm places such as the",
    "Yesterday I read a long book about the history of ancient Rome and its",
    "To make a cake you need flour, sugar, eggs and",
    "The largest ocean on Earth is the",
    "He was so tired after the football match that he went straight to",
    "Scientists discovered a herd of unicorns living in a remote valley in the Andes, which had "
    "never been explored before, and the unicorns spoke perfect",
]


@dataclass
class Log:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    queue_full: int = 0
    answers: list[tuple[tuple, object]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def rss_mb(pid: int) -> float:
    """Resident memory of the app process (Linux), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(model: str | None, env: dict[str, str], backend: str | None, root: Path = ROOT):
    port = free_port()
    cmd = [sys.executable, "-m", "whyword", "app", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--model", model] if model else []
    full = {**os.environ, "PYTHONPATH": str(root), "HF_HUB_OFFLINE": "1", **env}
    full["WHYWORD_HOSTED"] = "0"
    if backend:
        full["WHYWORD_BACKEND"] = backend
    proc = subprocess.Popen(  # cwd: `python -m` puts it first on sys.path, before PYTHONPATH
        cmd, env=full, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}/"
    from gradio_client import Client

    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the app stopped: {proc.stderr.read().decode()[-2000:]}")
        try:
            Client(url, verbose=False)
            return proc, url
        except Exception:  # noqa: BLE001 — not up yet
            time.sleep(1)
    proc.kill()
    raise SystemExit("the app did not start within 120 s")


OPENINGS = ["", "In class today we learned that ", "My friend told me: ", "Fun fact: "]


def prompt(i: int, round_: int = 0) -> str:
    """Student i's text in a round: half on the teacher's example, half their own (each round
    opens differently, so no round's text is one the cache already holds)."""
    if i % 2 == 0:
        return TEACHER if round_ == 0 else TEACHERS[(round_ - 1) % len(TEACHERS)]
    own = OWN[(i // 2) % len(OWN)]
    opening = OPENINGS[round_ % len(OPENINGS)]
    return opening + own[0].lower() + own[1:] if opening else own


def student(
    i: int,
    client,
    model: str,
    methods: str,
    log: Log,
    start: threading.Event,
    stop: float,
    round_: int = 0,
):
    """Student i's four requests through their own, already connected gradio_client."""
    text = prompt(i, round_)
    start.wait()

    def call(request: tuple):
        if time.time() > stop:
            return None
        clock = time.perf_counter()
        try:
            if request[0] == "predict":
                out = client.predict(text, model, 10, api_name="/predict")
            else:
                _, target, foil = request
                out = client.predict(
                    text, model, target, foil, methods, 32, "zero", 10, 0, api_name="/explain"
                )[0]
        except Exception as error:  # noqa: BLE001 — counted, the run goes on
            with log.lock:
                log.failures.append(str(error)[:200])
                log.queue_full += "queue is full" in str(error).lower()
            return None
        with log.lock:
            log.latencies.append(time.perf_counter() - clock)
            log.answers.append(((text, *request), out))
        return out

    rows = call(("predict",))
    if not rows:
        return
    second = f"id:{rows[1]['token_id']}"
    call(("explain", "", ""))  # Explain: the top-1
    call(("explain", second, ""))  # a bar click: the 2nd bar
    call(("explain", "", second))  # a foil: top-1 rather than the 2nd bar


HEAVY_TEXT = " ".join(OWN)  # ≈ 200 tokens: a long integrated-gradients request


def heavy_student(client, model: str, log: Log, start: threading.Event, steps: int) -> None:
    """One student's long IG request (the fairness case: it must not starve the others)."""
    start.wait()
    clock = time.perf_counter()
    try:
        client.predict(
            HEAVY_TEXT,
            model,
            "",
            "",
            "integrated_gradients",
            steps,
            "zero",
            10,
            0,
            api_name="/explain",
        )
    except Exception as error:  # noqa: BLE001 — counted
        log.failures.append(str(error)[:200])
        return
    log.latencies.append(time.perf_counter() - clock)


def reference(answers, methods: str, model: str = "default") -> tuple[int, int, float]:
    """Each distinct request computed alone here (cache and batching off): (checked, equal,
    seconds the whole mix takes one request at a time: each answer at its request's time)."""
    saved = {k: os.environ.get(k) for k in ("WHYWORD_CACHE_ENTRIES", "WHYWORD_HOSTED")}
    os.environ.update(WHYWORD_CACHE_ENTRIES="0", WHYWORD_HOSTED="0")
    try:
        return _alone(answers, methods, model)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k)
            else:
                os.environ[k] = v


def _alone(answers, methods: str, model: str) -> tuple[int, int, float]:
    from whyword.ui import handlers

    distinct = {}
    for key, out in answers:
        distinct.setdefault(key, out)
    (text, *_), _ = answers[0]
    handlers.api_predict(text, model, 10)  # load the model and warm up before timing
    equal, alone = 0, {}
    for (text, kind, *rest), got in distinct.items():
        clock = time.perf_counter()
        if kind == "predict":
            want = handlers.api_predict(text, model, 10)
            same = [r["token_id"] for r in want] == [r["token_id"] for r in got]
            same = same and all(
                math.isclose(a["probability"], b["probability"], abs_tol=1e-5)
                for a, b in zip(want, got, strict=True)
            )
        else:
            want, _ = handlers.api_explain(text, model, *rest, methods, 32, "zero", 10, 0)
            same = _same(want, got)
        equal += same
        alone[(text, kind, *rest)] = time.perf_counter() - clock
    return len(distinct), equal, sum(alone[key] for key, _ in answers)


def _same(want: dict, got: dict) -> bool:
    a, b = want["attributions"], got["attributions"]
    if [x["method"] for x in a] != [x["method"] for x in b] or want["target"] != got["target"]:
        return False
    return all(
        math.isclose(p, q, rel_tol=1e-4, abs_tol=1e-4)
        for x, y in zip(a, b, strict=True)
        for p, q in zip(x["scores"], y["scores"], strict=True)
    )


def run(n: int, args) -> list[dict]:
    """One app; `args.rounds` classes in turn against it (a new teacher's example and other
    own prompts each round, so the cache does not answer them): one result per round."""
    env = dict(e.split("=", 1) for e in args.env)
    proc, url = launch(args.model, env, args.backend, Path(args.app_root))
    try:
        rss = rss_mb(proc.pid)
        out = []
        for r in range(args.rounds):
            app_cpu = cpu_seconds(proc.pid)
            result = _round(n, r, url, args)
            result["app_cpu"] = cpu_seconds(proc.pid) - app_cpu
            result["rss"] = f"{rss:.0f}→{rss_mb(proc.pid):.0f}"
            rss = rss_mb(proc.pid)
            out.append(result)
        return out
    finally:
        proc.terminate()
        proc.wait(30)


def _round(n: int, round_: int, url: str, args) -> dict:
    from gradio_client import Client

    log, start = Log(), threading.Event()
    model = args.model or "default"
    heavies = args.heavy if round_ == 0 else 0
    clients = [Client(url, verbose=False) for _ in range(n + heavies)]  # before any clock
    stop = time.time() + args.deadline
    threads = [
        threading.Thread(
            target=student, args=(i, clients[i], model, args.methods, log, start, stop, round_)
        )
        for i in range(n)
    ]
    heavy = Log()
    threads += [
        threading.Thread(target=heavy_student, args=(client, model, heavy, start, args.heavy_steps))
        for client in clients[n:]
    ]
    clock, own_cpu = time.perf_counter(), time.process_time()
    if args.one_at_a_time:  # the baseline: the same mix, one request after another
        start.set()
        for t in threads:
            t.start()
            t.join(args.deadline + 60)
    else:
        for t in threads:
            t.start()
        time.sleep(0.2)  # every thread at the start line (the clients connected above)
        clock = time.perf_counter()
        start.set()
        for t in threads:
            t.join(args.deadline + 60)
    wall = time.perf_counter() - clock
    own_cpu = time.process_time() - own_cpu  # the simulated students' own work
    lat = sorted(log.latencies)
    done = len(lat)
    return {
        "students": n,
        "round": round_,
        "requests": done,
        "per_min": 60 * done / wall,
        "wall": wall,
        "client_cpu": own_cpu,
        "p50": statistics.median(lat) if lat else math.nan,
        "p95": lat[min(done - 1, int(0.95 * done))] if lat else math.nan,
        "max": lat[-1] if lat else math.nan,
        "failures": len(log.failures),
        "queue_full": log.queue_full,
        "answers": log.answers,
        "failure_examples": log.failures[:3],
        "heavy": heavy.latencies,
        "heavy_failures": heavy.failures,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", default="1,10,30", help="comma-separated N")
    parser.add_argument("--backend", default=None, help="a Ray Serve address (default: in process)")
    parser.add_argument("--model", default=None, help="model the app loads (default: embedded)")
    parser.add_argument(
        "--methods", default=",".join(PAGE_METHODS), help="explain's methods (the page's)"
    )
    parser.add_argument("--deadline", type=float, default=210, help="seconds per run at most")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the app")
    parser.add_argument("--heavy", type=int, default=0, help="students with a ~200-token IG")
    parser.add_argument("--heavy-steps", type=int, default=64, help="IG steps of that request")
    parser.add_argument(
        "--one-at-a-time", action="store_true", help="students one after another (baseline)"
    )
    parser.add_argument("--app-root", default=str(ROOT), help="checkout whose app to launch")
    parser.add_argument(
        "--rounds", type=int, default=1, help="classes in turn against one app (memory)"
    )
    parser.add_argument("--no-check", action="store_true", help="skip the alone comparison")
    args = parser.parse_args(argv)
    print(
        "| students | requests | req/min | p50 s | p95 s | max s | failures | queue full | equal alone |"
        " app RSS MB | app CPU s | clients CPU s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in (int(x) for x in args.students.split(",")):
        for r in run(n, args):
            report(r, args)


def report(r: dict, args) -> None:
    """One table row (after the alone check), with the run's numbers printed first."""
    n = r["students"]
    print(  # the run's numbers before the (slow) alone check
        f"   N = {n}, round {r['round'] + 1}: {r['per_min']:.1f} req/min, p50 {r['p50']:.2f} s, "
        f"p95 {r['p95']:.2f} s, max {r['max']:.2f} s, {r['failures']} failures",
        flush=True,
    )
    check = "skipped"
    if not args.no_check and r["answers"]:
        checked, equal, seconds = reference(r["answers"], args.methods, args.model or "default")
        check = f"{equal}/{checked}; one at a time: {60 * r['requests'] / seconds:.1f} req/min"
    label = f"{n} (round {r['round'] + 1})" if args.rounds > 1 else str(n)
    print(
        f"| {label} | {r['requests']} | {r['per_min']:.1f} | {r['p50']:.2f} | {r['p95']:.2f} | "
        f"{r['max']:.2f} | {r['failures']} | {r['queue_full']} | {check} | {r['rss']} | "
        f"{r['app_cpu']:.1f} | {r['client_cpu']:.1f} |",
        flush=True,
    )
    if args.heavy:
        print(f"   heavy IG requests: {r['heavy']} s, failures {r['heavy_failures']}", flush=True)
    for example in r["failure_examples"]:
        print("   failure:", example, flush=True)


if __name__ == "__main__":
    main()
