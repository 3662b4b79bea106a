"""What counting for Prometheus costs a request: metrics off, then on, same load.

    python -m bench.metrics_cost [--quick] [--json out.json]

``fedi-town serve`` as installed (beside this Python), SQLite in a temporary directory,
one process, started once with metrics off and once with ``FEDI_TOWN_METRICS_TOKEN`` set
(and once more with ``FEDI_TOWN_METRICS_DIR``: the multiprocess files). Each is loaded
with the same GETs: the actor (a kept answer, sent by the fast path: the hottest and
cheapest request, so the counting's share is largest there) and ``/healthz`` (routed by
Starlette, never kept). Rounds alternate off/on/dir so a neighbour's load falls on all of
them; each figure is the best round.

Printed per request: requests per second, the server's CPU time (µs; CPU seconds over
requests, which a busy machine disturbs less than the rate), and the difference from off:
the counting's cost. Also the idle RSS of each start (metrics off must not load
prometheus_client at all). No target: this is information for docs/operations.md.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import loadgen, report, seed
from bench.machine import CpuMeter, load_average, memory_mb
from bench.report import Figure
from fedi_town.metrics import OFF, ROUTE, Measured, Metrics
from fedi_town.settings import Settings

AP = "application/activity+json"
CONNECTIONS = 32
TOKEN = "bench-metrics-token-0123456789"
FEDI_TOWN = Path(sys.executable).with_name("fedi-town")


@dataclass(frozen=True)
class Point:
    name: str
    path: str
    headers: dict[str, str]


POINTS = (
    Point("actor GET (fast path)", "/users/bakery", {"Accept": AP}),
    Point("/healthz (routed)", "/healthz", {}),
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Serve:
    """``fedi-town serve`` with ``env`` on ``port``, until ``stop()``."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self._log = open(log, "ab")  # closed by stop()
        self.process = subprocess.Popen(
            [str(FEDI_TOWN), "serve"],
            env=env,
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"serve exited: see {log}")
                try:
                    if client.get("/users/bakery", headers={"Accept": AP}).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"serve did not start: see {log}")
                time.sleep(0.1)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


def _measure(server: Serve, point: Point, seconds: float) -> tuple[float, float]:
    """(requests per second, server CPU µs per request)."""
    loadgen.get_load("127.0.0.1", server.port, point.path, headers=point.headers,
                     connections=CONNECTIONS, seconds=min(1.0, seconds))  # fmt: skip
    with CpuMeter(server.pid) as cpu:
        result = loadgen.get_load("127.0.0.1", server.port, point.path, headers=point.headers,
                                  connections=CONNECTIONS, seconds=seconds)  # fmt: skip
    if result.requests - result.ok(200) or result.errors:
        raise RuntimeError(f"{point.name}: bad answers")
    return result.rate, cpu.server_s / result.requests * 1e6


def _in_process(requests: int = 200_000) -> tuple[float, float]:
    """µs per request of what counting adds, in this process with no server around it:
    ``Measured`` plus the read cache's count around an app that answers at once, against
    that app alone with metrics off (the same calls, returning at once)."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: Any) -> None:
        pass

    def timed(metrics: Metrics, wrapped: Any) -> float:
        scope = {"type": "http", "method": "GET", "path": "/users/bakery"}

        async def loop() -> None:
            for _ in range(requests):
                metrics.read_cache(True)
                scope[ROUTE] = "/users/{username}"
                await wrapped(scope, None, send)

        started = time.perf_counter()
        asyncio.run(loop())
        return (time.perf_counter() - started) / requests * 1e6

    on = Metrics.from_settings(Settings(metrics_token=TOKEN))
    off = min(timed(OFF, app) for _ in range(3))
    counted = min(timed(on, Measured(app, on)) for _ in range(3))
    return counted - off, off


def _scrape_size(port: int) -> int:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        answer.raise_for_status()
        return len(answer.content)


def run(quick: bool) -> tuple[list[Figure], list[str]]:
    seconds, rounds = (1.0, 1) if quick else (3.0, 3)
    notes = [
        f"load: {'wrk -t1' if loadgen.have_wrk() else 'asyncio client'}, {CONNECTIONS} "
        f"connections, {seconds:.0f} s per figure, best of {rounds} alternating rounds; "
        f"1-minute load average before: {load_average():.2f}"
    ]
    modes = {"off": {}, "on": {"FEDI_TOWN_METRICS_TOKEN": TOKEN}}
    best: dict[tuple[str, str], tuple[float, float]] = {}
    idle: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="fedi-bench-metrics-") as tmp:
        data = Path(tmp)
        modes["on, multiprocess dir"] = {**modes["on"], "FEDI_TOWN_METRICS_DIR": str(data / "m")}
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        database_url = seed.sqlite_url(data)

        async def prepare() -> None:
            services = await seed.open_services(database_url, base, data)
            try:
                await seed.create_business(services)
            finally:
                await services.store.disconnect()

        asyncio.run(prepare())
        env = {k: v for k, v in os.environ.items() if not k.startswith("FEDI_TOWN_")}
        env.update(seed.server_env(database_url, base, data))
        env.update(FEDI_TOWN_HOST="127.0.0.1", FEDI_TOWN_PORT=str(port))
        scrape_bytes = 0
        for _ in range(rounds):
            for mode, extra in modes.items():
                server = Serve({**env, **extra}, port, data / f"{mode}.log")
                try:
                    time.sleep(1.0)
                    rss = memory_mb(server.pid)[0]
                    idle[mode] = min(idle.get(mode, rss), rss)
                    for point in POINTS:
                        rate, cpu_us = _measure(server, point, seconds)
                        old = best.get((mode, point.name))
                        if old is None or cpu_us < old[1]:
                            best[mode, point.name] = (rate, cpu_us)
                    if mode != "off":
                        scrape_bytes = _scrape_size(port)
                finally:
                    server.stop()
    added, bare = _in_process()
    figures: list[Figure] = [
        Figure("metrics", "counting per request, in process (Measured + cache count)", added,
               "µs", detail=f"the bare ASGI call: {bare:.2f} µs")
    ]  # fmt: skip
    for point in POINTS:
        off_us = best["off", point.name][1]
        for mode in modes:
            rate, cpu_us = best[mode, point.name]
            figures.append(
                Figure(
                    "metrics",
                    f"{point.name}, metrics {mode}",
                    rate,
                    "req/s",
                    detail=f"server CPU {cpu_us:.0f} µs/request"
                    + ("" if mode == "off" else f" ({cpu_us - off_us:+.1f} µs vs off)"),
                    extra={"cpu_us": cpu_us, "cpu_us_vs_off": cpu_us - off_us},
                )
            )
    for mode in modes:
        figures.append(Figure("metrics", f"RSS idle, metrics {mode}", idle[mode], "MB"))
    notes.append(f"one scrape of /metrics after the load: {scrape_bytes} bytes")
    return figures, notes


def main() -> int:
    args = report.arguments(__doc__).parse_args()
    figures, notes = run(args.quick)
    return report.finish(figures, notes, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
