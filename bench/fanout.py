"""Fan-out: one post from a business with many followers on 1,000 loopback servers.

    python -m bench.fanout [--quick] [--json out.json]
    python -m bench.fanout --personal 100000     # only that variant, for the growth table

The followers (bulk-loaded, accepted) live on remote servers simulated by ``bench.receivers``:
one process listening on 127.0.1.1 ... 127.0.4.250, all on one port. The owner posts through
the admin API; the clock runs from that request until the last server has the Create. The
in-process worker delivers (one uvicorn worker, SQLite). Variants:

- 1k, 10k and 100k followers over 1,000 servers with shared inboxes: 1,000 deliveries each,
  so the follower count only changes the audience query and the enqueue;
- 10k followers with personal inboxes only: 10,000 deliveries;
- 10k / 1,000 with every 10th server down (refusing connections), then slow (holding each
  request past the 10 s read timeout): the time until every healthy server has the post
  must stay close to the all-up time.

Rounds: the shared-inbox variants deliver 1,000 POSTs in 1-2 s, and this machine's speed
drifts by up to 2x over seconds. So each posts ``ROUNDS`` (3) times, each time from a
freshly started fedi-town (no connection kept from the round before, as for the ceiling),
every post followed by a ceiling run; its row is the round with the median ratio, against that
round's ceiling. The longer variants (10,000 personal inboxes, the bad servers) run once.

The ceiling is ``bench.delivery_ceiling``: the same client stack (``RemoteClient``, deliveries
on aiohttp) signing and POSTing the same inboxes with the same concurrency (the delivery
queue's) and no database, in its own process, against the same receivers; the same on httpx
is reported for information. Target: >= 70% of it, every delivery exactly once.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import report, seed
from bench.machine import CpuMeter, RssSampler, load_average, memory_mb
from bench.profile import sampled
from bench.receivers import host_ip, is_bad
from bench.report import Figure, ratio_figure
from bench.servers import ROOT, Process, child_env, free_port, start_process, start_server
from fedi_town.worker import DELIVERY_CONCURRENCY

TARGET = 0.70
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

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0


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
) -> list[Outcome]:
    """Seed a fresh database, then ``rounds`` times: start fedi-town, post, time the
    deliveries, stop it (``between`` runs after each, e.g. the ceiling of that round)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    name = f"fanout-{variant.followers}-{'shared' if variant.shared else 'personal'}"
    name += f"-{variant.bad}" if variant.bad else ""
    database_url = seed.sqlite_url(data, f"{name}.sqlite3")
    token, private_pem, key_id = asyncio.run(
        _prepare(database_url, base, data, variant, receivers.port)
    )
    expected = variant.inboxes(receivers.port, healthy_only=True)
    env = seed.server_env(database_url, base, data)
    outcomes: list[Outcome] = []
    for number in range(rounds):
        # A fresh process each round: its connections to the receivers are as cold as the
        # ceiling's (a second post from the same process reuses the first one's).
        server = start_server(
            "fedi", env=env, port=port, log_dir=data, ready_path="/.well-known/nodeinfo"
        )
        try:
            time.sleep(1.0)
            idle = memory_mb(server.pid)[0]
            receivers.reset()
            with (
                RssSampler(server.pid) as rss,
                CpuMeter(server.pid) as cpu,
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
                private_pem, key_id,
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
    inboxes: list[str], outcome: Outcome, data: Path, transport: str = "remote"
) -> dict[str, Any]:
    """Run ``bench.delivery_ceiling`` in its own process for these inboxes."""
    job = {
        "inboxes": inboxes,
        "body": outcome.body,
        "private_pem": outcome.private_pem,
        "key_id": outcome.key_id,
        "concurrency": CONCURRENCY,
        "transport": transport,
    }
    path = data / f"ceiling-{transport}.json"
    path.write_text(json.dumps(job))
    done = subprocess.run(
        [sys.executable, "-m", "bench.delivery_ceiling", str(path)],
        cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["rate"] = result["count"] / result["seconds"]
    return result


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
        f"{ceiling['outcomes']}"
    )
    return Figure("fanout", label, ceiling["rate"], "deliveries/s", versus, detail=detail)


def run(quick: bool, profile: Path | None = None) -> tuple[list[Figure], list[str]]:
    servers = 100 if quick else 1_000
    sizes = [servers, 10 * servers] if quick else [1_000, 10_000, 100_000]
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
            variant = Variant("personal", 10 * servers, servers, shared=False)
            [personal] = run_variant(variant, receivers, data, limit, profile)
            personal_ceiling = run_ceiling(personal.variant.inboxes(receivers.port), personal, data)
            label = f"{variant.followers:,} followers, personal inboxes only"
            figures.append(_delivery_figure(label, personal, personal_ceiling))
            label = f"ceiling: sign+POST {personal_ceiling['count']:,} inboxes, no database"
            figures.append(_ceiling_figure(label, personal_ceiling))
        finally:
            receivers.stop()
        outcomes = [*shared, personal]
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


def run_personal(sizes: list[int], profile: Path | None = None) -> tuple[list[Figure], list[str]]:
    """Only the personal-inbox variant, at the given follower counts, each with its ceiling
    (``--personal 100000``: the growth figure beyond ``make bench``'s ten minutes)."""
    servers = 1_000
    notes = [f"personal inboxes only; 1-minute load average before: {load_average():.2f}"]
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="fedi-bench-fanout-") as tmp:
        data = Path(tmp)
        receivers = Receivers(servers, None, data)
        try:
            for n in sizes:
                variant = Variant(f"personal {n:,}", n, servers, shared=False)
                [outcome] = run_variant(variant, receivers, data, max(180.0, n / 100), profile)
                ceiling = run_ceiling(outcome.variant.inboxes(receivers.port), outcome, data)
                label = f"{n:,} followers, personal inboxes only"
                figures.append(_delivery_figure(label, outcome, ceiling))
                label = f"ceiling: sign+POST {ceiling['count']:,} inboxes, no database"
                figures.append(_ceiling_figure(label, ceiling))
                figures.append(
                    Figure("memory", f"RSS peak during fan-out ({n:,} personal inboxes)",
                           outcome.peak_mb, "MB", None, "<= 150 MB", outcome.peak_mb <= 150,
                           f"idle before: {outcome.idle_mb:.0f} MB")
                )  # fmt: skip
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
