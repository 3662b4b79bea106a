"""Fan-out: one post from a business with many followers on 1,000 loopback servers.

    python -m bench.fanout [--quick] [--json out.json]
    python -m bench.fanout --personal 1000,100000   # only the personal-inbox growth rows

The followers (bulk-loaded, accepted) live on remote servers simulated by ``bench.receivers``:
one process listening on 127.0.1.1 ... 127.0.4.250, all on one port. The owner posts through
the admin API; the clock runs from that request until the last server has the Create.
fedi-town runs as users run it: the installed ``fedi-town serve`` console script (beside
this Python, in the venv's bin) with the default settings (SQLite, the worker in-process,
INFO logging, signing threads), plus only what an instance must set and
``FEDI_TOWN_ALLOW_PRIVATE_ADDRESSES`` for the loopback receivers. Variants:

- 1k, 10k and 100k followers over 1,000 servers with shared inboxes: 1,000 deliveries each,
  so the follower count only changes the audience query and the enqueue;
- personal inboxes only, 1k, 10k and 100k followers (``--quick`` stops at 10k): one POST
  per follower. 10k is the target row: >= 1.5x the single-process ceiling (one thread
  signing and POSTing), beside the same fan-out with ``FEDI_TOWN_SIGN_THREADS=0`` (before)
  and the ceiling with signing threads (information), the ceiling in two processes at once
  posting half the inboxes each (information: what both cores give without a database, the
  bound of any fan-out spread over them), and the same fan-out on PostgreSQL
  with ``FEDI_TOWN_WEB_WORKERS=2`` (the issue's other way to both cores, same target). The
  growth table gives time per
  delivery and the fedi-town process's RSS peak at each size;
- 10k / 1,000 with every 10th server down (refusing connections), then slow (holding each
  request past the 10 s read timeout): the time until every healthy server has the post
  must stay close to the all-up time.

Rounds: the shared-inbox variants deliver 1,000 POSTs in 1-2 s, and this machine's speed
drifts by up to 2x over seconds. So each posts ``ROUNDS`` (3) times, each time from a
freshly started fedi-town (no connection kept from the round before, as for the ceiling),
every post followed by a ceiling run; its row is the round with the median ratio, against that
round's ceiling. The two target rows at 10k personal inboxes (SQLite, PostgreSQL with two
processes) go the same way: ``ROUNDS`` turns of fedi-town on SQLite, the one-thread ceiling
and fedi-town on PostgreSQL, each row the turn with its median ratio (7-10 s each, and their
ratios moved from 96% to 157% between runs with no code change). The other variants
(the information rows, the other sizes, the bad servers) run once.

The ceiling is ``bench.delivery_ceiling``: the same client stack (``RemoteClient``, deliveries
on aiohttp) signing and POSTing the same inboxes with the same concurrency (the delivery
queue's) and no database, in its own process, signing on its event loop, against the same
receivers; the same on httpx is reported for information. Targets: shared inboxes >= 70% of
it, personal inboxes >= 150%, every delivery exactly once.

Every fan-out row, and the personal-inbox ceilings, also say who else used the machine's
cores meanwhile (``machine.SharedCpu``): the receivers, the PostgreSQL server and the whole
machine. On this 2-core machine they share the cores with the sender, so a row whose
machine is nearly 2 of 2 cores busy is bound by the machine, not by fedi-town's waiting.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import report, seed
from bench.machine import CpuMeter, RssSampler, SharedCpu, load_average, memory_mb
from bench.profile import sampled
from bench.receivers import host_ip, is_bad
from bench.report import Figure, ratio_figure
from bench.servers import ROOT, Process, StartFailed, child_env, free_port, start_process
from fedi_town.settings import default_sign_threads
from fedi_town.worker import DELIVERY_CONCURRENCY

TARGET = 0.70
#: Fan-out to personal inboxes: this many times the single-process (one thread) sign+POST
#: ceiling, with fedi-town's default settings (signing threads beside the event loop).
PERSONAL_TARGET = 1.5
PERSONAL_SIZE = 10_000
#: The growth table's sizes (``--quick`` stops at the second); time per delivery at the
#: largest may be at most ``GROWTH_FLAT`` times that at the smallest.
GROWTH_SIZES = [1_000, 10_000, 100_000]
GROWTH_FLAT = 1.3
#: Healthy servers must have the post within this factor of the all-up time.
BAD_SLOWDOWN = 1.5
CONCURRENCY = DELIVERY_CONCURRENCY  # the delivery runner's, fedi_town/worker.py
BAD_EVERY = 10
#: Posts per shared-inbox variant, each followed by a ceiling run (see the module docstring).
ROUNDS = 3
HANG_S = 15.0


@dataclass(frozen=True)
class Variant:
    name: str
    followers: int
    servers: int
    shared: bool = True
    bad: str | None = None  # "down" | "slow"

    def rows(self, port: int) -> list[seed.RemoteActorRow]:
        rows = []
        for i in range(self.followers):
            base = f"http://{host_ip(i % self.servers)}:{port}"
            uri = f"{base}/users/f{i}"
            rows.append(
                seed.RemoteActorRow(uri, f"{uri}/inbox", f"{base}/inbox" if self.shared else None)
            )
        return rows

    def inboxes(self, port: int, *, healthy_only: bool = False) -> list[str]:
        """The inboxes fedi-town should deliver to (those on healthy servers, if asked)."""
        found: dict[str, None] = {}
        for i in range(self.followers):
            server = i % self.servers
            if healthy_only and self.bad and is_bad(server, BAD_EVERY):
                continue
            base = f"http://{host_ip(server)}:{port}"
            found[f"{base}/inbox" if self.shared else f"{base}/users/f{i}/inbox"] = None
        return list(found)


@dataclass
class Outcome:
    variant: Variant
    expected: int
    delivered: int
    duplicates: int
    seconds: float  # post request -> last healthy delivery
    api_s: float  # the admin API call (write + enqueue)
    server_cores: float
    peak_mb: float
    idle_mb: float
    db_done: int
    body: str
    private_pem: str
    key_id: str
    #: who else used the cores meanwhile (receivers, PostgreSQL, the whole machine)
    shared: str = ""

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0


def fedi_town_script() -> Path:
    """The ``fedi-town`` console script installed beside this Python (the venv's bin)."""
    return Path(sys.executable).parent / "fedi-town"


def start_fedi_town(
    env: dict[str, str], port: int, log_dir: Path, name: str, timeout: float = 60.0
) -> Process:
    """``fedi-town serve`` as a user runs it (the installed script, its default settings
    plus ``env``), once ``/.well-known/nodeinfo`` answers 200."""
    log_path = log_dir / f"{name}.log"
    settings = {**env, "FEDI_TOWN_HOST": "127.0.0.1", "FEDI_TOWN_PORT": str(port)}
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            [str(fedi_town_script()), "serve"],
            cwd=log_dir,
            env=child_env(settings),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process = Process(name, popen, "", log_path)
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5, trust_env=False) as client:
        while time.monotonic() < deadline and popen.poll() is None:
            try:
                if client.get("/.well-known/nodeinfo").status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    process.stop()
    raise StartFailed(f"fedi-town serve did not start:\n{process.log()[-3000:]}")


def user_env(database_url: str, base: str, data: Path) -> dict[str, str]:
    """The settings of the fedi-town under test: what an instance must set (its URL, database,
    tokens, media folder) and the loopback receivers allowed; everything else as shipped
    (log level, worker in-process, signing threads)."""
    keep = ("BASE_URL", "DATABASE_URL", "ADMIN_TOKEN", "KEY_ENCRYPTION_KEYS", "MEDIA_DIR",
            "ALLOW_PRIVATE_ADDRESSES")  # fmt: skip
    env = seed.server_env(database_url, base, data)
    return {k: v for k, v in env.items() if k.removeprefix("FEDI_TOWN_") in keep}


class Receivers:
    """The receiver process and its control API."""

    def __init__(self, hosts: int, bad: str | None, log_dir: Path) -> None:
        argv = ["-m", "bench.receivers", "--hosts", str(hosts), "--hang", str(HANG_S)]
        if bad:
            argv += ["--bad-every", str(BAD_EVERY), "--bad", bad]
        self.process: Process = start_process(f"receivers-{bad or 'up'}", argv, log_dir=log_dir)
        info = json.loads(self.process.ready)
        self.port: int = info["port"]
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{info['control']}", timeout=10, trust_env=False
        )

    def stats(self) -> dict[str, Any]:
        data: dict[str, Any] = self.http.get("/_stats").json()
        return data

    def reset(self) -> None:
        self.http.post("/_reset")

    def stop(self) -> None:
        self.http.close()
        self.process.stop()


async def _prepare(
    database_url: str, base: str, data: Path, variant: Variant, port: int
) -> tuple[str, str, str]:
    services = await seed.open_services(database_url, base, data)
    try:
        business, token = await seed.create_business(services)
        private_pem = services.sealed_keys.private_pem(business.sealed_private_key)
    finally:
        await services.store.disconnect()
    await seed.load_actors(database_url, variant.rows(port), follow_business=business.id)
    return token, private_pem, f"{base}/users/bakery#main-key"


async def _delivery_counts(database_url: str, base: str, data: Path) -> dict[str, int]:
    from fedi_town.store import queue as q

    services = await seed.open_services(database_url, base, data)
    try:
        return await q.counts(services.store, q.DELIVERIES)
    finally:
        await services.store.disconnect()


def run_variant(
    variant: Variant,
    receivers: Receivers,
    data: Path,
    limit: float,
    profile: Path | None,
    rounds: int = 1,
    between: Callable[[Outcome], None] | None = None,
    settings: dict[str, str] | None = None,
    postgres: bool = False,
) -> list[Outcome]:
    """Seed a fresh database, then ``rounds`` times: start fedi-town, post, time the
    deliveries, stop it (``between`` runs after each, e.g. the ceiling of that round).
    ``settings`` are added to the user's (e.g. ``FEDI_TOWN_SIGN_THREADS``); ``postgres``
    puts the database in a private PostgreSQL schema (dropped afterwards) instead of SQLite."""
    port = free_port()
    name = f"fanout-{variant.followers}-{'shared' if variant.shared else 'personal'}"
    name += f"-{variant.bad}" if variant.bad else ""
    name += "".join(
        f"-{k.removeprefix('FEDI_TOWN_').lower()}{v}" for k, v in (settings or {}).items()
    )
    taken, turn = name, 1
    while (data / f"{name}.sqlite3").exists():  # the same variant again: a fresh database
        turn += 1
        name = f"{taken}-{turn}"
    if postgres:
        database_url = seed.postgres_url(f"bench_fanout_{os.getpid()}_{int(time.time())}")
    else:
        database_url = seed.sqlite_url(data, f"{name}.sqlite3")
    try:
        return _run_rounds(
            variant, receivers, data, limit, profile, rounds, between, settings, name,
            port, database_url,
        )  # fmt: skip
    finally:
        if postgres:
            asyncio.run(seed.drop_schema(database_url))


def _run_rounds(
    variant: Variant,
    receivers: Receivers,
    data: Path,
    limit: float,
    profile: Path | None,
    rounds: int,
    between: Callable[[Outcome], None] | None,
    settings: dict[str, str] | None,
    name: str,
    port: int,
    database_url: str,
) -> list[Outcome]:
    base = f"http://127.0.0.1:{port}"
    token, private_pem, key_id = asyncio.run(
        _prepare(database_url, base, data, variant, receivers.port)
    )
    expected = variant.inboxes(receivers.port, healthy_only=True)
    env = {**user_env(database_url, base, data), **(settings or {})}
    outcomes: list[Outcome] = []
    for number in range(rounds):
        # A fresh process each round: its connections to the receivers are as cold as the
        # ceiling's (a second post from the same process reuses the first one's).
        server = start_fedi_town(env, port, data, f"{name}-{number}")
        try:
            time.sleep(1.0)
            idle = memory_mb(server.pid)[0]
            receivers.reset()
            with (
                RssSampler(server.pid) as rss,
                CpuMeter(server.pid) as cpu,
                SharedCpu(receivers.process.pid) as others,
                sampled(server.pid, profile if number == 0 else None, name),
                httpx.Client(base_url=base, timeout=120, trust_env=False) as client,
            ):
                started = time.time()
                response = client.post(
                    "/api/v1/businesses/bakery/posts",
                    json={"content": f"Cinnamon buns are back this Saturday! #bakery ({number})"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                api_s = time.time() - started
                response.raise_for_status()
                stats = receivers.stats()
                while stats["deliveries"] < len(expected) and time.time() - started < limit:
                    time.sleep(0.05)
                    stats = receivers.stats()
            seconds = (stats["last"] or time.time()) - started
            activity = httpx.get(
                response.json()["uri"] + "/activity",
                headers={"Accept": "application/activity+json"},
            ).text
            done = 0
            if not variant.bad:  # every delivery row of every post so far is done
                done = _wait_rows_done(database_url, base, data, len(expected) * (number + 1))
                done -= len(expected) * number
            peak = max(rss.peak_mb, memory_mb(server.pid)[1])
        finally:
            server.stop()
        outcomes.append(
            Outcome(
                variant, len(expected), stats["deliveries"], stats["duplicates"], seconds,
                api_s, cpu.server_s / max(seconds, 1e-9), peak, idle, done, activity,
                private_pem, key_id, others.describe(),
            )
        )  # fmt: skip
        if between is not None:
            between(outcomes[-1])
    return outcomes


def _wait_rows_done(database_url: str, base: str, data: Path, expected: int) -> int:
    """The database must say every delivery row is done, too (within 15 s)."""
    done = 0
    deadline = time.time() + 15
    while time.time() < deadline:
        done = asyncio.run(_delivery_counts(database_url, base, data)).get("done", 0)
        if done >= expected:
            break
        time.sleep(0.2)
    return done


def run_ceiling(
    inboxes: list[str],
    outcome: Outcome,
    data: Path,
    transport: str = "remote",
    sign_threads: int = 0,
    receivers: Receivers | None = None,
) -> dict[str, Any]:
    """Run ``bench.delivery_ceiling`` in its own process for these inboxes (with
    ``receivers``, also who else used the cores meanwhile: ``shared``)."""
    job = {
        "inboxes": inboxes,
        "body": outcome.body,
        "private_pem": outcome.private_pem,
        "key_id": outcome.key_id,
        "concurrency": CONCURRENCY,
        "transport": transport,
        "sign_threads": sign_threads,
    }
    path = data / f"ceiling-{transport}.json"
    path.write_text(json.dumps(job))
    with SharedCpu(receivers.process.pid if receivers else os.getpid()) as others:
        done = subprocess.run(
            [sys.executable, "-m", "bench.delivery_ceiling", str(path)],
            cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=300, check=True,
        )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if receivers is not None:  # the whole subprocess, start included: a little over the POSTs
        result["shared"] = others.describe()
    result["rate"] = result["count"] / result["seconds"]
    return result


def run_split_ceiling(
    inboxes: list[str], outcome: Outcome, data: Path, receivers: Receivers, processes: int = 2
) -> dict[str, Any]:
    """``processes`` ceilings at once, each posting its share of the inboxes (one thread
    each), started together: what this machine's cores can do at best without a database,
    the bound of any fan-out spread over processes. Rate: all POSTs over the slowest's time."""
    started_at = time.time() + 1.0  # every process imported and ready by then
    children = []
    for i in range(processes):
        job = {
            "inboxes": inboxes[i::processes],
            "body": outcome.body,
            "private_pem": outcome.private_pem,
            "key_id": outcome.key_id,
            "concurrency": CONCURRENCY,
            "transport": "remote",
            "sign_threads": 0,
            "start_at": started_at,
        }
        path = data / f"ceiling-split-{i}.json"
        path.write_text(json.dumps(job))
        children.append(
            subprocess.Popen(
                [sys.executable, "-m", "bench.delivery_ceiling", str(path)],
                cwd=ROOT,
                env=child_env(),
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    with SharedCpu(receivers.process.pid) as others:
        results = [json.loads(child.communicate(timeout=300)[0].strip().splitlines()[-1])
                   for child in children]  # fmt: skip
    outcomes: Counter[str] = Counter()
    for one in results:
        outcomes.update(one["outcomes"])
    seconds = max(one["seconds"] for one in results)
    count = sum(one["count"] for one in results)
    return {
        "count": count,
        "seconds": seconds,
        "outcomes": dict(outcomes),
        "cpu_s": sum(one["cpu_s"] for one in results),
        "rate": count / seconds,
        "shared": others.describe(),
    }


def _median_turn(pairs: list[tuple[float, float]]) -> tuple[int, str]:
    """The turn whose ratio (value / its ceiling) is the median, and every turn's ratio
    (for the detail)."""
    return report.median_round([value / ceiling if ceiling else 0.0 for value, ceiling in pairs])


def _once(outcome: Outcome) -> bool:
    return outcome.duplicates == 0 and outcome.delivered == outcome.expected


def _detail(outcome: Outcome) -> str:
    once = (
        "every delivery once"
        if _once(outcome)
        else f"{outcome.delivered}/{outcome.expected} delivered, {outcome.duplicates} repeats"
    )
    db = f", {outcome.db_done} rows done" if outcome.db_done else ""
    return (
        f"{outcome.delivered:,} deliveries in {outcome.seconds:.1f} s "
        f"(API call {outcome.api_s:.2f} s); server {outcome.server_cores:.2f} cores, "
        f"RSS peak {outcome.peak_mb:.0f} MB; {once}{db}"
        + (f"; {outcome.shared}" if outcome.shared else "")
    )


def _delivery_figure(label: str, outcome: Outcome, ceiling: dict[str, Any]) -> Figure:
    return ratio_figure(
        "fanout", label, outcome.rate, ceiling["rate"], "deliveries/s", TARGET,
        _detail(outcome), seconds=outcome.seconds, once=_once(outcome),
    )  # fmt: skip


def _ceiling_figure(label: str, ceiling: dict[str, Any], versus: float | None = None) -> Figure:
    cores = ceiling["cpu_s"] / ceiling["seconds"]
    detail = (
        f"{ceiling['count']:,} POSTs in {ceiling['seconds']:.1f} s, {cores:.2f} cores, "
        f"{ceiling['outcomes']}" + (f"; {ceiling['shared']}" if "shared" in ceiling else "")
    )
    return Figure("fanout", label, ceiling["rate"], "deliveries/s", versus, detail=detail)


def run(quick: bool, profile: Path | None = None) -> tuple[list[Figure], list[str]]:
    servers = 100 if quick else 1_000
    sizes = [servers, 10 * servers] if quick else [1_000, 10_000, 100_000]
    growth_sizes = GROWTH_SIZES[:2] if quick else GROWTH_SIZES
    limit = 60.0 if quick else 180.0
    notes = [
        f"{servers:,} receiving servers on 127.0.1.1-127.0.{1 + (servers - 1) // 250}.x; "
        f"delivery concurrency {CONCURRENCY}; 1-minute load average before: {load_average():.2f}"
    ]
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="fedi-bench-fanout-") as tmp:
        data = Path(tmp)
        receivers = Receivers(servers, None, data)
        try:
            rounds = 1 if quick else ROUNDS
            shared: list[Outcome] = []
            ceilings: list[dict[str, Any]] = []
            for n in sizes:
                ran: list[tuple[Outcome, dict[str, Any]]] = []

                def ceiling_after(
                    outcome: Outcome, ran: list[tuple[Outcome, dict[str, Any]]] = ran
                ) -> None:
                    inboxes = outcome.variant.inboxes(receivers.port)
                    ran.append((outcome, run_ceiling(inboxes, outcome, data)))

                variant = Variant(f"{n:,}", n, servers)
                run_variant(variant, receivers, data, limit, profile, rounds, ceiling_after)
                ran.sort(key=lambda pair: pair[0].rate / pair[1]["rate"])
                outcome, ceiling = ran[len(ran) // 2]
                shared.append(outcome)
                ceilings += [c for _, c in ran]
                label = f"{n:,} followers / {servers:,} servers, shared"
                figure = _delivery_figure(label, outcome, ceiling)
                if rounds > 1:
                    ratios = [f"{o.rate / c['rate']:.0%}" for o, c in ran]
                    figure.detail = f"rounds (sorted): {', '.join(ratios)}; " + figure.detail
                figures.append(figure)
            main = shared[min(1, len(shared) - 1)]
            inboxes = main.variant.inboxes(receivers.port)
            ceilings.sort(key=lambda c: c["rate"])
            ceiling = ceilings[len(ceilings) // 2]
            label = f"ceiling: sign+POST {ceiling['count']:,} inboxes, no database"
            figure = _ceiling_figure(label, ceiling)
            if len(ceilings) > 1:
                figure.detail = (
                    f"median of {len(ceilings)}, {ceilings[0]['rate']:,.0f}-"
                    f"{ceilings[-1]['rate']:,.0f}/s; " + figure.detail
                )
            figures.append(figure)
            other = run_ceiling(inboxes, main, data, "remote-httpx")
            label = "ceiling on httpx, fedi-town's guarded transport (information)"
            figures.append(_ceiling_figure(label, other, ceiling["rate"]))
            for transport, package in (("httpx-aiohttp", "httpx_aiohttp"), ("aiohttp", "aiohttp")):
                if importlib.util.find_spec(package) is None:
                    notes.append(f"ceiling on {transport} skipped: {package} is not installed")
                    continue
                other = run_ceiling(inboxes, main, data, transport)
                label = f"ceiling on {transport} (information)"
                figures.append(_ceiling_figure(label, other, ceiling["rate"]))
            personal, growth = run_growth(
                receivers, data, growth_sizes, servers, limit, profile, 1 if quick else ROUNDS
            )
            figures += growth
        finally:
            receivers.stop()
        outcomes = [*shared, *personal]
        for bad in ("down", "slow"):
            receivers = Receivers(servers, bad, data)
            try:
                variant = Variant(f"10% {bad}", main.variant.followers, servers, bad=bad)
                [outcome] = run_variant(variant, receivers, data, limit, profile)
            finally:
                receivers.stop()
            outcomes.append(outcome)
            allowed = main.seconds * BAD_SLOWDOWN
            figures.append(
                Figure(
                    "fanout", f"every 10th server {bad}: until all healthy servers have it",
                    outcome.seconds, "s", None, f"<= {BAD_SLOWDOWN}x all-up ({allowed:.1f} s)",
                    _once(outcome) and outcome.seconds <= allowed, _detail(outcome),
                )
            )  # fmt: skip
        once = all(_once(o) for o in outcomes)
        figures.append(
            Figure("fanout", "every delivery exactly once (all variants)", float(once), "",
                   None, "yes", once)
        )  # fmt: skip
        peak = max(o.peak_mb for o in outcomes)
        idle = max(o.idle_mb for o in outcomes)
        figures.append(
            Figure("memory", "RSS peak during fan-out", peak, "MB", None, "<= 150 MB",
                   peak <= 150, f"idle before: {idle:.0f} MB")
        )  # fmt: skip
    return figures, notes


def run_growth(
    receivers: Receivers,
    data: Path,
    sizes: list[int],
    servers: int,
    limit: float,
    profile: Path | None,
    rounds: int = ROUNDS,
) -> tuple[list[Outcome], list[Figure]]:
    """Fan-out to personal inboxes only (one POST per follower) at each size: the target row
    at ``PERSONAL_SIZE`` against the single-process ceiling, and the growth table (time per
    delivery and peak RSS of the fedi-town process, 1k to 100k)."""
    outcomes: list[Outcome] = []
    grown: list[Outcome] = []
    figures: list[Figure] = []
    for n in sizes:
        variant = Variant(f"personal {n:,}", n, servers, shared=False)
        [outcome] = run_variant(variant, receivers, data, max(limit, n / 100), profile)
        outcomes.append(outcome)
        grown.append(outcome)
        if n != PERSONAL_SIZE:
            continue
        inboxes = outcome.variant.inboxes(receivers.port)
        on_postgres = asyncio.run(seed.postgres_available()) is None
        turns: list[tuple[Outcome, dict[str, Any], Outcome | None]] = []
        for turn in range(rounds):
            if turn:
                [outcome] = run_variant(variant, receivers, data, max(limit, n / 100), None)
                outcomes.append(outcome)
            ceiling = run_ceiling(inboxes, outcome, data, receivers=receivers)
            two = None
            if on_postgres:
                [two] = run_variant(
                    variant, receivers, data, max(limit, n / 100), None,
                    settings={"FEDI_TOWN_WEB_WORKERS": "2"}, postgres=True,
                )  # fmt: skip
                outcomes.append(two)
            turns.append((outcome, ceiling, two))
        chosen, listed = _median_turn([(o.rate, c["rate"]) for o, c, _ in turns])
        mine, ceiling, _ = turns[chosen]
        label = f"{n:,} followers, personal inboxes only"
        figure = ratio_figure(
            "fanout", label, mine.rate, ceiling["rate"], "deliveries/s", PERSONAL_TARGET,
            f"{listed}; {_detail(mine)}", seconds=mine.seconds, once=_once(mine),
        )  # fmt: skip
        figures.append(figure)
        label = f"ceiling: sign+POST {ceiling['count']:,} inboxes, no database, one thread"
        figures.append(_ceiling_figure(label, ceiling))
        threads = default_sign_threads()
        pooled = run_ceiling(inboxes, outcome, data, sign_threads=threads, receivers=receivers)
        label = f"ceiling with {threads} signing threads (information)"
        figures.append(_ceiling_figure(label, pooled, ceiling["rate"]))
        split = run_split_ceiling(inboxes, outcome, data, receivers)
        label = "ceiling in 2 processes at once, half the inboxes each (information: both cores)"
        figures.append(_ceiling_figure(label, split, ceiling["rate"]))
        [inline] = run_variant(
            variant, receivers, data, max(limit, n / 100), None,
            settings={"FEDI_TOWN_SIGN_THREADS": "0"},
        )  # fmt: skip
        outcomes.append(inline)
        label = f"{n:,} personal inboxes, FEDI_TOWN_SIGN_THREADS=0 (before; information)"
        figures.append(
            Figure("fanout", label, inline.rate, "deliveries/s", ceiling["rate"],
                   detail=_detail(inline))
        )  # fmt: skip
        if not on_postgres:
            missing = asyncio.run(seed.postgres_available()) or "PostgreSQL unreachable"
            figures.append(Figure("fanout", "PostgreSQL, 2 web processes: skipped", 0.0, "",
                                  detail=missing[:120]))  # fmt: skip
            continue
        pairs = [(two.rate if two else 0.0, c["rate"]) for _, c, two in turns]
        chosen, two_listed = _median_turn(pairs)
        _, two_ceiling, two = turns[chosen]
        assert two is not None
        # The second way to both cores: several processes on PostgreSQL. It carries
        # the same target as the default (SQLite, signing threads) row above.
        label = f"{n:,} personal inboxes, PostgreSQL, FEDI_TOWN_WEB_WORKERS=2"
        figures.append(
            ratio_figure(
                "fanout", label, two.rate, two_ceiling["rate"], "deliveries/s", PERSONAL_TARGET,
                f"{two_listed}; {_detail(two)} (RSS: the supervising process only)",
                seconds=two.seconds, once=_once(two),
            )
        )  # fmt: skip
    first = grown[0]
    for outcome in grown:
        per_item = _per_delivery_us(outcome)
        figures.append(
            Figure(
                "growth", f"{outcome.delivered:,} personal inboxes: time per delivery",
                per_item, "µs", _per_delivery_us(first),
                detail=(
                    f"ceiling column: {first.delivered:,}; {outcome.rate:,.0f} deliveries/s; "
                    f"RSS peak {outcome.peak_mb:.0f} MB (idle {outcome.idle_mb:.0f}); "
                    f"API call {outcome.api_s:.2f} s "
                    f"({outcome.api_s * 1e6 / max(outcome.delivered, 1):.0f} µs per follower); "
                    f"server {outcome.server_cores:.2f} cores"
                ),
            )
        )  # fmt: skip
    last = grown[-1]
    growth = _per_delivery_us(last) / _per_delivery_us(first)
    figures.append(
        Figure(
            "growth", f"time per delivery, {last.delivered:,} vs {first.delivered:,}",
            growth, "x", None, f"<= {GROWTH_FLAT}x", growth <= GROWTH_FLAT and _once(last),
            f"RSS peak {first.peak_mb:.0f} -> {last.peak_mb:.0f} MB",
        )
    )  # fmt: skip
    figures.append(
        Figure(
            "growth", f"RSS peak, {last.delivered:,} personal inboxes", last.peak_mb, "MB",
            None, "<= 150 MB", last.peak_mb <= 150, f"{first.delivered:,}: {first.peak_mb:.0f} MB",
        )
    )  # fmt: skip
    return outcomes, figures


def _per_delivery_us(outcome: Outcome) -> float:
    return outcome.seconds * 1e6 / max(outcome.delivered, 1)


def run_personal(sizes: list[int], profile: Path | None = None) -> tuple[list[Figure], list[str]]:
    """Only the personal-inbox variants at the given follower counts (``--personal``)."""
    servers = 1_000
    notes = [f"personal inboxes only; 1-minute load average before: {load_average():.2f}"]
    with tempfile.TemporaryDirectory(prefix="fedi-bench-fanout-") as tmp:
        data = Path(tmp)
        receivers = Receivers(servers, None, data)
        try:
            _, figures = run_growth(receivers, data, sizes, servers, 180.0, profile)
        finally:
            receivers.stop()
    return figures, notes


def main() -> int:
    parser = report.arguments(__doc__)
    parser.add_argument(
        "--personal",
        default="",
        help="only the personal-inbox variant, at these follower counts (e.g. 100000)",
    )
    args = parser.parse_args()
    if args.personal:
        sizes = [int(n) for n in args.personal.split(",") if n]
        figures, notes = run_personal(sizes, args.profile)
    else:
        figures, notes = run(args.quick, args.profile)
    return report.finish(figures, notes, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
