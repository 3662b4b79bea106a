"""Memory: what ``fedi-town serve`` holds idle, after a burst of reads, and through a fan-out.

    python -m bench.memory [--quick] [--json out.json] [--followers 1000] [--servers 200]
                           [--reads 3000] [--runs sqlite,pg1,pg2]

Runs ``fedi-town serve`` as installed (the virtualenv's ``fedi-town`` script) with the
default settings but those a loopback run needs (``bench.seed.server_env``: private
addresses allowed, logs at WARNING), three ways:

- SQLite, one process (the default install);
- PostgreSQL, one process;
- PostgreSQL, ``--workers 2`` (the supervisor and its two web processes).

For each: the resident memory (VmRSS) of every process once idle, after ``--reads`` GETs of
the actor, WebFinger, the outbox, a note and the profile page (32 at a time), and then after
one post fanned out to ``--followers`` followers on ``--servers`` loopback inboxes
(``bench.receivers``); the peak is VmHWM (the kernel's high-water mark, so nothing between
two samples is missed). For several processes the figures are sums, and PSS (proportional
set size: pages shared between the processes counted once, split between them) is given
too, as the fair total of what they cost the machine.

Targets (issue #19), for one process (``fedi-town serve`` as installed, one business): idle
RSS <= 80 MB, peak (VmHWM, through the reads and the fan-out) <= 150 MB; printed as MET or
MISSED with the other figures (``make bench`` runs this script). ``--workers 2`` is
reported without a target. No assert: the exit code does not depend on the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import report, seed
from bench.fanout import Receivers, Variant
from bench.servers import free_port

FEDI_TOWN = Path(sys.executable).with_name("fedi-town")
_KB = 1024
#: Issue #19's targets for one ``fedi-town serve`` process, in MB.
IDLE_TARGET_MB = 80.0
PEAK_TARGET_MB = 150.0


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree(pid: int) -> list[int]:
    """``pid`` and its children (the supervisor's web processes)."""
    found = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(p) for p in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


@dataclass(frozen=True)
class Sample:
    """Memory of a process tree at one moment, in MB."""

    rss: float
    hwm: float
    pss: float
    processes: int

    @classmethod
    def of(cls, pid: int) -> Sample:
        pids = tree(pid)
        return cls(
            sum(_status_kb(p, "VmRSS") for p in pids) / _KB,
            sum(_status_kb(p, "VmHWM") for p in pids) / _KB,
            sum(_pss_kb(p) for p in pids) / _KB,
            len(pids),
        )

    def per_process(self, pid: int) -> str:
        """RSS/PSS of each process in MB, the parent first."""
        return ", ".join(
            f"{_status_kb(p, 'VmRSS') / _KB:.0f}/{_pss_kb(p) / _KB:.0f}" for p in tree(pid)
        )


async def _reads(base: str, count: int, note: str) -> int:
    paths = [
        ("/users/bakery", "application/activity+json"),
        ("/.well-known/webfinger?resource=acct:bakery@" + base.split("//")[1], "*/*"),
        ("/users/bakery/outbox?page=1", "application/activity+json"),
        (note, "application/activity+json"),
        ("/@bakery", "text/html"),
    ]
    limit = asyncio.Semaphore(32)
    ok = 0
    async with httpx.AsyncClient(base_url=base, timeout=30, trust_env=False) as client:

        async def one(n: int) -> None:
            nonlocal ok
            path, accept = paths[n % len(paths)]
            async with limit:
                response = await client.get(path, headers={"Accept": accept})
                ok += response.status_code == 200
                if response.status_code != 200 and n < len(paths):
                    print(f"  note: {path} answered {response.status_code}", flush=True)

        await asyncio.gather(*(one(n) for n in range(count)))
    return ok


def _start(env: dict[str, str], workers: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(FEDI_TOWN), "serve", "--workers", str(workers)],
            env={**{k: v for k, v in os.environ.items() if not k.startswith("FEDI_TOWN_")}, **env},
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    base = env["FEDI_TOWN_BASE_URL"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(base + "/.well-known/nodeinfo", timeout=2).status_code == 200:
                if len(tree(process.pid)) >= (workers + 1 if workers > 1 else 1):
                    return process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"serve never answered:\n{log.read_text()[-2000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def measure(
    label: str,
    database_url: str,
    workers: int,
    receivers: Receivers,
    args: argparse.Namespace,
    data: Path,
) -> list[report.Figure]:
    """Start ``fedi-town serve``, measure it idle, after reads and after a fan-out; print
    the figures and return them (with the targets for a single process)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    variant = Variant("memory", args.followers, args.servers)

    async def prepare() -> str:
        services = await seed.open_services(database_url, base, data)
        try:
            business, token = await seed.create_business(services)
        finally:
            await services.store.disconnect()
        await seed.load_actors(
            database_url, variant.rows(receivers.port), follow_business=business.id
        )
        return token

    token = asyncio.run(prepare())
    env = seed.server_env(database_url, base, data)
    env["FEDI_TOWN_PORT"] = str(port)
    del env["FEDI_TOWN_WORKER"]  # the default
    process = _start(env, workers, data / f"{label}.log")
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, timeout=60, trust_env=False) as client:
            time.sleep(3.0)
            idle = Sample.of(process.pid)
            idle_each = idle.per_process(process.pid)
            first = client.post(
                "/api/v1/businesses/bakery/posts",
                json={"content": "Rye loaves until noon."},
                headers=headers,
            )
            note = httpx.URL(first.json()["uri"]).path
            receivers.reset()
            time.sleep(1.0)  # the first post's deliveries (not measured)
            ok = asyncio.run(_reads(base, args.reads, note))
            after_reads = Sample.of(process.pid)
            receivers.reset()
            started = time.monotonic()
            client.post(
                "/api/v1/businesses/bakery/posts",
                json={"content": "Cinnamon buns are back this Saturday!"},
                headers=headers,
            ).raise_for_status()
            expected = len(variant.inboxes(receivers.port))
            stats = receivers.stats()
            while stats["deliveries"] < expected and time.monotonic() - started < 120:
                time.sleep(0.05)
                stats = receivers.stats()
            fanned = time.monotonic() - started
            after_fanout = Sample.of(process.pid)
            waits = _first_delivery_waits(client, headers, receivers, args.posts)
    finally:
        _stop(process)
    print(
        f"{label}: {idle.processes} process(es)\n"
        f"  idle            RSS {idle.rss:6.1f} MB  PSS {idle.pss:6.1f} MB  "
        f"(each, RSS/PSS: {idle_each})\n"
        f"  {args.reads} reads ({ok} ok)  RSS {after_reads.rss:6.1f} MB  PSS "
        f"{after_reads.pss:6.1f} MB  peak {after_reads.hwm:6.1f} MB\n"
        f"  fan-out to {stats['deliveries']}/{expected} inboxes in {fanned:.1f} s  RSS "
        f"{after_fanout.rss:6.1f} MB  PSS {after_fanout.pss:6.1f} MB  peak "
        f"{after_fanout.hwm:6.1f} MB\n"
        f"  post to first delivery, {len(waits)} posts: median {statistics.median(waits):.3f} s, "
        f"max {max(waits):.3f} s",
        flush=True,
    )
    return figures_of(label, workers, idle, after_reads, after_fanout)


def figures_of(
    label: str, workers: int, idle: Sample, after_reads: Sample, after_fanout: Sample
) -> list[report.Figure]:
    """The run's figures; one process gets issue #19's idle and peak targets."""
    peak = max(after_reads.hwm, after_fanout.hwm)
    detail = f"PSS {idle.pss:.1f} MB, {idle.processes} process(es)"
    if workers > 1:
        return [
            report.Figure("memory", f"{label}: RSS idle, sum", idle.rss, "MB", detail=detail),
            report.Figure("memory", f"{label}: RSS peak, sum", peak, "MB",
                          detail=f"PSS after fan-out {after_fanout.pss:.1f} MB"),
        ]  # fmt: skip
    return [
        report.Figure("memory", f"{label}: RSS idle", idle.rss, "MB",
                      target=f"<= {IDLE_TARGET_MB:.0f} MB", met=idle.rss <= IDLE_TARGET_MB,
                      detail=detail),
        report.Figure("memory", f"{label}: RSS peak (reads, fan-out)", peak, "MB",
                      target=f"<= {PEAK_TARGET_MB:.0f} MB", met=peak <= PEAK_TARGET_MB,
                      detail=f"after reads {after_reads.rss:.1f} MB, after fan-out "
                      f"{after_fanout.rss:.1f} MB"),
    ]  # fmt: skip


def _first_delivery_waits(
    client: httpx.Client, headers: dict[str, str], receivers: Receivers, posts: int
) -> list[float]:
    """Seconds from each of ``posts`` posts (whichever process answers the API call) to its
    first delivery: with a worker in every process it is sent at once; a worker elsewhere
    finds it at its next poll."""
    waits = []
    for number in range(posts):
        receivers.reset()
        started = time.time()
        client.post(  # a new connection each time: any process may answer it
            "/api/v1/businesses/bakery/posts",
            json={"content": f"Fresh bread, batch {number}"},
            headers={**headers, "Connection": "close"},
        ).raise_for_status()
        deadline = time.monotonic() + 30
        while (first := receivers.stats()["first"]) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        waits.append((first or time.time()) - started)
        time.sleep(0.3)  # the rest of its deliveries
    return waits


def main(argv: list[str] | None = None) -> int:
    parser = report.arguments(__doc__)
    parser.add_argument("--followers", type=int, default=None, help="1000 (--quick: 200)")
    parser.add_argument("--servers", type=int, default=None, help="loopback inboxes (hosts)")
    parser.add_argument("--reads", type=int, default=None, help="3000 (--quick: 1000)")
    parser.add_argument("--posts", type=int, default=None, help="posts timed to first delivery")
    parser.add_argument(
        "--runs",
        default="sqlite,pg1,pg2",
        help="which of sqlite, pg1, pg2 (PostgreSQL with 1 or 2 web processes)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.followers = args.followers or (200 if quick else 1000)
    args.servers = args.servers or (50 if quick else 200)
    args.reads = args.reads or (1000 if quick else 3000)
    args.posts = args.posts or (5 if quick else 20)
    runs = set(args.runs.split(","))
    figures: list[report.Figure] = []
    notes = [
        f"fedi-town serve as installed ({FEDI_TOWN}), one business; idle 3 s after start; "
        f"{args.reads} reads, then a post to {args.followers} followers on {args.servers} "
        "loopback servers; peak is VmHWM"
    ]
    with tempfile.TemporaryDirectory(prefix="fedi-town-memory-") as folder:
        data = Path(folder)
        receivers = Receivers(args.servers, None, data)
        try:
            if "sqlite" in runs:
                (data / "sqlite").mkdir()
                figures += measure("SQLite, 1 process", seed.sqlite_url(data / "sqlite"), 1,
                                   receivers, args, data / "sqlite")  # fmt: skip
            problem = asyncio.run(seed.postgres_available())
            if problem is not None:
                notes.append(f"PostgreSQL unavailable ({problem}): its rows are skipped")
            else:
                for workers in [n for n in (1, 2) if f"pg{n}" in runs]:
                    schema = f"bench_memory_{os.getpid()}_{workers}"
                    url = seed.postgres_url(schema)
                    (data / schema).mkdir()
                    label = "PostgreSQL, 1 process" if workers == 1 else (
                        f"PostgreSQL, --workers {workers}")  # fmt: skip
                    try:
                        figures += measure(label, url, workers, receivers, args, data / schema)
                    finally:
                        asyncio.run(seed.drop_schema(url))
        finally:
            receivers.stop()
    return report.finish(figures, notes, args.json)


if __name__ == "__main__":
    sys.exit(main())
