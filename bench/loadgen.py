"""Load generators: ``wrk`` when installed, else a small HTTP/1.1 client on raw asyncio streams.

Both report requests per second, latency percentiles, the status codes seen and the CPU
seconds the generator itself used, so each run can show that the generator was not the
bottleneck (it had a core to spare while the server's core was full).

``run_requests`` replays a list of pre-built raw requests (the inbox benchmark's pre-signed
POSTs) over ``connections`` keep-alive connections, each request once. ``run_for`` repeats
one GET for a number of seconds. Both speak only to 127.0.0.0/8.
"""

from __future__ import annotations

import asyncio
import re
import resource
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench.machine import self_cpu_seconds


@dataclass
class LoadResult:
    """What one load run measured."""

    tool: str
    requests: int
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    client_cpu_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    p50_ms: float | None = None
    p99_ms: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def ok(self, *codes: int) -> int:
        return sum(n for status, n in self.statuses.items() if status in codes)

    def finish(self) -> LoadResult:
        if self.latencies_ms:
            ordered = sorted(self.latencies_ms)
            self.p50_ms = ordered[len(ordered) // 2]
            self.p99_ms = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return self


def _check_loopback(host: str) -> None:
    if not host.startswith("127."):
        raise ValueError("load goes to 127.0.0.0/8 only")


def build_get(path: str, host: str, headers: dict[str, str] | None = None) -> bytes:
    """A raw GET; ``host`` is its Host unless ``headers`` carry one (a signed GET signs it)."""
    given = headers or {}
    lines = [f"GET {path} HTTP/1.1"]
    if not any(k.lower() == "host" for k in given):
        lines.append(f"Host: {host}")
    lines += [f"{k}: {v}" for k, v in given.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def build_post(path: str, headers: dict[str, str], body: bytes) -> bytes:
    """A raw POST with ``headers`` as given (they carry Host) and Content-Length."""
    lines = [f"POST {path} HTTP/1.1"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() != "content-length"]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


async def _connection(
    host: str, port: int, take: Callable[[], bytes | None], result: LoadResult
) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        while (request := take()) is not None:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            assert reader is not None
            started = time.perf_counter()
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                match = _LENGTH.search(head)
                if match and int(match.group(1)):
                    await reader.readexactly(int(match.group(1)))
            except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
                result.errors += 1
                writer.close()
                reader = writer = None
                continue
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.statuses[int(head[9:12])] += 1
            result.requests += 1
            if b"\r\nconnection: close" in head.lower():
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


def _run(coro_factory: Callable[[], object]) -> None:
    try:
        import uvloop

        uvloop.run(coro_factory())  # type: ignore[arg-type]
    except ImportError:
        asyncio.run(coro_factory())  # type: ignore[arg-type]


def run_requests(
    host: str, port: int, requests: Sequence[bytes], connections: int, timeout: float = 300.0
) -> LoadResult:
    """Send each of ``requests`` once over ``connections`` connections; time the whole."""
    _check_loopback(host)
    result = LoadResult("asyncio", 0, 0.0)
    queue = iter(requests)

    def take() -> bytes | None:
        return next(queue, None)

    async def main() -> None:
        tasks = [_connection(host, port, take, result) for _ in range(connections)]
        await asyncio.wait_for(asyncio.gather(*tasks), timeout)

    cpu = self_cpu_seconds()
    started = time.perf_counter()
    _run(main)
    result.seconds = time.perf_counter() - started
    result.client_cpu_s = self_cpu_seconds() - cpu
    return result.finish()


def run_for(host: str, port: int, request: bytes, connections: int, seconds: float) -> LoadResult:
    """Repeat ``request`` on ``connections`` connections for ``seconds``."""
    _check_loopback(host)
    result = LoadResult("asyncio", 0, 0.0)
    deadline = time.perf_counter() + seconds

    def take() -> bytes | None:
        return request if time.perf_counter() < deadline else None

    async def main() -> None:
        await asyncio.gather(*(_connection(host, port, take, result) for _ in range(connections)))

    cpu = self_cpu_seconds()
    started = time.perf_counter()
    _run(main)
    result.seconds = time.perf_counter() - started
    result.client_cpu_s = self_cpu_seconds() - cpu
    return result.finish()


# -- wrk ------------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(
    url: str, *, connections: int, seconds: float, headers: dict[str, str] | None = None
) -> LoadResult:
    """Run ``wrk -t1`` against ``url`` and parse its report."""
    host = url.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]
    _check_loopback(host)
    whole = max(1, round(seconds))  # wrk takes whole seconds
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{whole}s", "--latency", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        [*argv, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    total = re.search(r"(\d+) requests in ([\d.]+)(s|ms|m)", out)
    if total is None:
        raise ValueError(f"cannot read wrk's output:\n{out}")
    elapsed = float(total.group(2)) * {"s": 1.0, "ms": 0.001, "m": 60.0}[total.group(3)]
    count = int(total.group(1))
    result = LoadResult("wrk", count, elapsed, client_cpu_s=cpu)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result.statuses[200] = count - (int(bad.group(1)) if bad else 0)
    if bad:
        result.statuses[0] = int(bad.group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors:
        result.errors = sum(int(g) for g in errors.groups())
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "50%":
            result.p50_ms = _ms(parts[1])
        if len(parts) == 2 and parts[0] == "99%":
            result.p99_ms = _ms(parts[1])
    return result


def get_load(
    host: str,
    port: int,
    path: str,
    *,
    headers: dict[str, str],
    connections: int,
    seconds: float,
    prefer_wrk: bool = True,
) -> LoadResult:
    """Hammer one GET: with wrk when available, else with the asyncio client."""
    if prefer_wrk and have_wrk():
        return wrk(
            f"http://{host}:{port}{path}",
            connections=connections,
            seconds=seconds,
            headers=headers,
        )
    request = build_get(path, f"{host}:{port}", headers)
    return run_for(host, port, request, connections, seconds)
