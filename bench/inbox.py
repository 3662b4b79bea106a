"""Inbox: signed Like / Announce / Create accepted per second, against a verify-only route.

    python -m bench.inbox [--quick] [--json out.json] [--sizes 1000,10000]

A burst of activities from 1,000 remote actors (Mastodon-shaped, draft-cavage signatures)
is signed before the clock starts and replayed by ``bench.loadgen`` over 32 keep-alive
connections. The remote actors and their keys are already known (bulk-loaded into
``remote_actors`` / ``remote_keys``), as after the first contact with each; the business
and its post are made by the store functions with fixed ids so that one set of signed
requests serves every run. Activities go to the shared inbox, Likes to the personal one.

- ceiling: ``bench.apps:bare_inbox``, a route that parses and verifies the same signatures
  with parsed keys from a dict, and answers 202.
- fedi-town as users run it: ``fedi-town serve`` from the installed package (this venv's
  bin), default settings (one web process, the worker in-process: the all-in-one
  deployment; request and worker logging as shipped, to a file), on SQLite and on
  PostgreSQL (``?schema=`` of its own, dropped at the end).

Before the clock starts, the ceiling and fedi-town each take ``WARMUP`` (64) other
activities, untimed (with the worker on, fedi-town also handles them first): neither is
timed on its first requests. Those come from 64 of the 1,000 actors, so fedi-town holds
their keys in memory; the other 936 keys are read from ``remote_keys`` during the burst.
"accepted/s" counts 202 answers over the time from the first request sent to the last
answer. Target: accepted >= 50% of the ceiling on both databases. At the largest size,
fedi-town also runs with ``FEDI_TOWN_WORKER=off`` (accepting only), for information. Sizes
are the number of activities in a burst.

**Drain** (the last round of each size): after the burst the script waits (at most
``DRAIN_LIMIT_S``) until the worker has finished every stored item (done or failed), timed
from the first request. While the inboxes take the burst the worker deliberately holds back
(``inbound/backpressure.py``), so its own time is what follows the last answer: "handled/s"
is the burst's activities over (drain time - accept time), set against "accepted/s" in a
row of its own. Target: handled/s >= 50% of accepted/s, which is the same as the whole
burst being handled within 3x the time it took to accept it.

Rounds: this machine's speed drifts by up to 2x over seconds (the same RSA verification
took 18 to 38 us in one minute), so one ceiling burst and one fedi-town burst a minute
apart can disagree by that much for no reason of their own. Each size is measured in
``ROUNDS`` (3; 5 for bursts of 1,000 or less, which last 0.1-0.2 s; 1 with ``--quick``)
rounds of ceiling, SQLite, PostgreSQL, each on a fresh server and database; a row reports
the round with the median ratio (its own figure and its own ceiling) and lists every round's
ratio. The worker's drain is waited for (and reported)
in the last round only.

With ``--profile``, the drain is recorded too, in a file of its own (``…-drain.txt``): the
burst's recording samples the inboxes, the drain's the worker handling what they stored.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import loadgen, report, seed
from bench.machine import CpuMeter, RssSampler, load_average, memory_mb
from bench.profile import sampled
from bench.report import Figure, ratio_figure
from bench.servers import Server, StartFailed, free_port, start_server, write_json

TARGET = 0.50
#: The worker drains at least this share of the accept rate (see the module docstring).
DRAIN_TARGET = 0.50
#: Longest wait for the worker to finish a burst, per size (seconds); bounded runs.
DRAIN_LIMIT_S = 120.0
#: ``fedi-town`` as installed next to this interpreter (``make install``'s venv).
FEDI_TOWN = Path(sys.executable).with_name("fedi-town")
ROUNDS = 3
#: Bursts of this size or less take ``SHORT_ROUNDS``: 1,000 activities are accepted in
#: 0.1-0.2 s, where one pause of the machine moves the ratio by 30 points.
SHORT_BURST = 1_000
SHORT_ROUNDS = 5
CONNECTIONS = 32
#: Activities sent (and, with the worker on, handled) before the clock starts, to both the
#: ceiling and fedi-town, so that neither is timed on its first requests (lazy set-up, the
#: first statements prepared); the read benchmark warms up for the same reason.
WARMUP = 64
ACTORS = 1_000
#: Distinct RSA keys shared out among the actors (making 1,000 keys would take a minute;
#: verifying costs the same whichever key it is).
KEYS = 16
REMOTE_SERVERS = 50
POST_ID = 1 << 40
AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS}#Public"


@dataclass(frozen=True)
class RemoteActor:
    uri: str
    key_id: str
    key_index: int


def remote_actors() -> list[RemoteActor]:
    """Actors on 127.0.10.x hosts (port 80: nothing listens, nothing is ever fetched)."""
    actors = []
    for i in range(ACTORS):
        server = i % REMOTE_SERVERS
        uri = f"http://127.0.10.{1 + server}/users/fan{i}"
        actors.append(RemoteActor(uri, f"{uri}#main-key", i % KEYS))
    return actors


def activity(i: int, actor: RemoteActor, post_uri: str, business_uri: str) -> dict[str, Any]:
    """The i-th activity of the burst: Like, Announce and Create{Note} in turn."""
    host = actor.uri.split("/users/", 1)[0]
    kind = ("Like", "Announce", "Create")[i % 3]
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if kind == "Like":
        return {"@context": AS, "id": f"{actor.uri}#likes/{i}", "type": "Like",
                "actor": actor.uri, "object": post_uri}  # fmt: skip
    if kind == "Announce":
        return {"@context": AS, "id": f"{actor.uri}/statuses/{i}/activity", "type": "Announce",
                "actor": actor.uri, "published": now, "to": [PUBLIC],
                "cc": [business_uri, f"{actor.uri}/followers"], "object": post_uri}  # fmt: skip
    note_id = f"{host}/notes/{uuid.uuid4().hex}"
    note = {
        "id": note_id, "type": "Note", "attributedTo": actor.uri,
        "content": f"<p>Looks delicious! See you on Saturday ({i})</p>", "published": now,
        "inReplyTo": post_uri, "to": [PUBLIC], "cc": [f"{actor.uri}/followers", business_uri],
        "tag": [{"type": "Mention", "href": business_uri, "name": "@bakery"}],
        "url": note_id,
    }  # fmt: skip
    return {"@context": AS, "id": f"{note_id}/activity", "type": "Create", "actor": actor.uri,
            "published": now, "to": note["to"], "cc": note["cc"], "object": note}  # fmt: skip


SignJob = tuple[list[tuple[str, str, str, bytes]], dict[int, str]]


def _sign_chunk(job: SignJob) -> list[bytes]:
    """Worker process: sign ("key_id|key index", url, path, body) items; keys parsed once."""
    from fedi_town.protocol import httpsig
    from fedi_town.protocol.keys import load_private_key

    items, pems = job
    out = []
    now = datetime.now(UTC)
    for key_index, url, path, body in items:
        key_id, _, index = key_index.rpartition("|")
        headers = httpsig.sign_request(
            "POST",
            url,
            {"Content-Type": "application/activity+json", "User-Agent": "Mastodon/4.3 (bench)"},
            body,
            key_id=key_id,
            private_key=load_private_key(pems[int(index)]),
            now=now,
        )
        out.append(loadgen.build_post(path, headers, body))
    return out


def sign_burst(base: str, count: int, actors: list[RemoteActor], private: list[str]) -> list[bytes]:
    """``count`` signed raw requests to fedi-town at ``base`` (two processes sign)."""
    post_uri = f"{base}/users/bakery/statuses/{POST_ID}"
    business_uri = f"{base}/users/bakery"
    items = []
    for i in range(count):
        actor = actors[(i * 7919) % len(actors)]
        body = json.dumps(activity(i, actor, post_uri, business_uri)).encode()
        path = "/users/bakery/inbox" if i % 3 == 0 else "/inbox"
        items.append((f"{actor.key_id}|{actor.key_index}", base + path, path, body))
    pems = dict(enumerate(private))
    chunks: list[SignJob] = [(items[i::2], pems) for i in range(2)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        signed = pool.map(_sign_chunk, chunks)
    merged: list[bytes] = []
    for i in range(count):
        merged.append(signed[i % 2][i // 2])
    return merged


async def _prepare(
    database_url: str, base: str, data: Path, actors: list[RemoteActor], public: list[str]
) -> None:
    from fedi_town.store import posts as post_store
    from fedi_town.store.db import now_ms

    services = await seed.open_services(database_url, base, data)
    try:
        business, _ = await seed.create_business(services)
        now = now_ms()
        await post_store.insert(
            services.store, post_id=POST_ID, business_id=business.id,
            uri=f"{base}/users/bakery/statuses/{POST_ID}",
            content_source="Cinnamon buns are back!", content_html="<p>Cinnamon buns are back!</p>",
            spoiler_text="", sensitive=False, language="en", visibility="public",
            in_reply_to_uri=None, mentions=[], hashtags=[], extra_inboxes=[], scheduled_at=None,
            published_at=now, now=now,
        )  # fmt: skip
    finally:
        await services.store.disconnect()
    rows = [
        seed.RemoteActorRow(
            a.uri, f"{a.uri}/inbox", None, key_id=a.key_id, public_pem=public[a.key_index]
        )
        for a in actors
    ]
    await seed.load_actors(database_url, rows)


async def _poll_drained(
    database_url: str, total: int, started: float, limit: float
) -> tuple[float, int, int]:
    from fedi_town.store import queue as q
    from fedi_town.store.db import Store

    store = Store(database_url)
    await store.connect()
    try:
        deadline = time.perf_counter() + limit
        first: int | None = None
        while True:
            counts = await q.counts(store, q.INBOX)
            finished = counts.get("done", 0) + counts.get("failed", 0)
            first = finished if first is None else first
            if finished >= total or time.perf_counter() > deadline:
                return time.perf_counter() - started, finished, first
            await asyncio.sleep(0.05)
    finally:
        await store.disconnect()


def _wait_drained(
    database_url: str, base: str, data: Path, total: int, started: float, limit: float
) -> tuple[float, int, int]:
    """Wait (at most ``limit`` s) for the worker to finish every stored item, looking every
    50 ms on one connection.

    Returns the seconds since ``started``, how many items were finished by then, and how
    many were finished when the wait began.
    """
    return asyncio.run(_poll_drained(database_url, total, started, limit))


def start_fedi_town(env: dict[str, str], port: int, data: Path, timeout: float = 60.0) -> Server:
    """``fedi-town serve`` from the installed package, as a user starts it, on ``port``;
    returns once it answers NodeInfo. Its output (logs) goes to a file, as under a service
    manager."""
    log_path = data / f"fedi-town-serve-{port}.log"
    full = {k: v for k, v in os.environ.items() if not k.startswith("FEDI_TOWN_")}
    full.update(env, FEDI_TOWN_HOST="127.0.0.1", FEDI_TOWN_PORT=str(port))
    with log_path.open("ab") as log:
        popen = subprocess.Popen(
            [str(FEDI_TOWN), "serve"],
            env=full,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    server = Server("fedi-town serve", popen, "", log_path, port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and popen.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /.well-known/nodeinfo HTTP/1.1\r\nHost: x\r\n\r\n")
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise StartFailed(f"fedi-town serve never answered:\n{server.log()[-3000:]}")


@dataclass
class Burst:
    accepted: float
    result: loadgen.LoadResult
    server_cores: float
    peak_mb: float
    idle_mb: float
    handled_s: float = 0.0
    handled: int = 0
    #: the server's CPU seconds while waiting for the drain, and the items finished meanwhile
    drain_cpu_s: float = 0.0
    drain_items: int = 0

    @property
    def drain_rate(self) -> float:
        """The worker's own rate: the burst over the time it took after the last answer."""
        after = self.handled_s - self.result.seconds
        return self.handled / after if self.handled and after > 0 else 0.0


def _warm_up(server: Server, warmup: list[bytes]) -> None:
    result = loadgen.run_requests("127.0.0.1", server.port, warmup, CONNECTIONS)
    if result.ok(202) != len(warmup):
        raise RuntimeError(f"warm-up answered {dict(result.statuses)}:\n{server.log()[-2000:]}")


def _burst(
    server: Server, requests: list[bytes], profile: Path | None = None, name: str = ""
) -> tuple[loadgen.LoadResult, float, float]:
    with (
        RssSampler(server.pid) as rss,
        CpuMeter(server.pid) as cpu,
        sampled(server.pid, profile, name),
    ):
        result = loadgen.run_requests("127.0.0.1", server.port, requests, CONNECTIONS)
    return result, cpu.server_s / result.seconds, rss.peak_mb


def run_ceiling(
    data: Path,
    base: str,
    actors: list[RemoteActor],
    public: list[str],
    requests: list[bytes],
    warmup: list[bytes],
) -> Burst:
    keys = {a.key_id: public[a.key_index] for a in actors}
    env = {"BENCH_BARE_KEYS": str(write_json(data / "keys.json", {"keys": keys, "origin": base}))}
    server = start_server("bare-inbox", env=env, log_dir=data)
    try:
        _warm_up(server, warmup)
        result, cores, peak = _burst(server, requests)
    finally:
        server.stop()
    if result.ok(202) != len(requests):
        raise RuntimeError(f"bare inbox refused {len(requests) - result.ok(202)} requests")
    return Burst(result.ok(202) / result.seconds, result, cores, peak, 0.0)


def run_fedi(
    database_url: str,
    data: Path,
    port: int,
    actors: list[RemoteActor],
    public: list[str],
    requests: list[bytes],
    warmup: list[bytes],
    drain_limit: float,
    profile: Path | None = None,
    name: str = "",
    worker: bool = True,
) -> Burst:
    """Burst ``requests`` at a fresh fedi-town; with ``worker``, then wait for the worker."""
    base = f"http://127.0.0.1:{port}"
    asyncio.run(_prepare(database_url, base, data, actors, public))
    env = seed.server_env(database_url, base, data)
    del env["FEDI_TOWN_LOG_LEVEL"]  # the default, as users run it
    if not worker:
        env["FEDI_TOWN_WORKER"] = "off"
    server = start_fedi_town(env, port, data)
    try:
        time.sleep(1.0)
        idle = memory_mb(server.pid)[0]
        _warm_up(server, warmup)
        if worker:
            _wait_drained(database_url, base, data, len(warmup), time.perf_counter(), 5.0)
        started = time.perf_counter()
        result, cores, peak = _burst(server, requests, profile, name)
        handled_s, handled, drain_cpu, drain_items = 0.0, 0, 0.0, 0
        if worker and drain_limit > 0:
            with sampled(server.pid, profile, f"{name}-drain"), CpuMeter(server.pid) as meter:
                handled_s, finished, first = _wait_drained(
                    database_url, base, data, len(warmup) + len(requests), started, drain_limit
                )
            handled = max(0, finished - len(warmup))
            drain_cpu, drain_items = meter.server_s, finished - first
        peak = max(peak, memory_mb(server.pid)[1])
    finally:
        server.stop()
    if result.ok(202) != len(requests):
        raise RuntimeError(
            f"fedi-town answered {dict(result.statuses)} to {len(requests)} activities:\n"
            f"{server.log()[-2000:]}"
        )
    return Burst(
        result.ok(202) / result.seconds, result, cores, peak, idle, handled_s, handled,
        drain_cpu, drain_items,
    )  # fmt: skip


def _detail(burst: Burst) -> str:
    r = burst.result
    text = (
        f"p99 {r.p99_ms:.0f} ms; server {burst.server_cores:.2f} cores, "
        f"client {r.client_cpu_s / r.seconds:.2f} cores"
    )
    if burst.handled_s:
        text += (
            f"; worker handled {burst.handled:,}/{r.requests:,} within {burst.handled_s:.1f} s "
            f"of the first request ({burst.handled_s / r.seconds:.1f}x the accept time)"
        )
    return text


def run(
    quick: bool, sizes: list[int], profile: Path | None = None
) -> tuple[list[Figure], list[str]]:
    from fedi_town.protocol.keys import generate_rsa_keypair

    notes = [
        f"{ACTORS} remote actors on {REMOTE_SERVERS} hosts, {KEYS} distinct RSA-2048 keys, "
        f"{CONNECTIONS} connections; 1-minute load average before: {load_average():.2f}"
    ]
    postgres_down = asyncio.run(seed.postgres_available())
    if postgres_down:
        notes.append(f"PostgreSQL skipped: {postgres_down}")
    figures: list[Figure] = []
    actors = remote_actors()
    pairs = [generate_rsa_keypair() for _ in range(KEYS)]
    private, public = [p for p, _ in pairs], [p for _, p in pairs]
    with tempfile.TemporaryDirectory(prefix="fedi-bench-inbox-") as tmp:
        data = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        began = time.perf_counter()
        signed = sign_burst(base, max(sizes) + WARMUP, actors, private)
        warmup = signed[max(sizes) :]
        notes.append(
            f"signed {len(signed)} requests in {time.perf_counter() - began:.1f} s "
            "(2 processes, before any timing)"
        )
        for size in sizes:
            requests = signed[:size]
            rounds = 1 if quick else SHORT_ROUNDS if size <= SHORT_BURST else ROUNDS
            measured = _rounds(
                rounds, size, data, base, port, actors, public, requests, warmup, postgres_down,
                profile, accept_only=size == max(sizes),
            )  # fmt: skip
            figures += _figures(size, measured)
        counts = "1" if quick else f"{SHORT_ROUNDS} up to {SHORT_BURST:,}, {ROUNDS} above"
        notes.append(
            f"rounds per size: {counts} (ceiling, SQLite, PostgreSQL in turn, fresh servers); "
            "each row is the round with the median ratio"
        )
    return figures, notes


@dataclass
class Round:
    ceiling: Burst
    runs: dict[str, Burst]


def _rounds(
    rounds: int,
    size: int,
    data: Path,
    base: str,
    port: int,
    actors: list[RemoteActor],
    public: list[str],
    requests: list[bytes],
    warmup: list[bytes],
    postgres_down: str | None,
    profile: Path | None,
    accept_only: bool,
) -> list[Round]:
    """``rounds`` rounds of the ceiling then fedi-town on each database, taken in turn."""
    measured = []
    for number in range(rounds):
        last = number == rounds - 1
        ceiling = run_ceiling(data, base, actors, public, requests, warmup)
        runs = [("SQLite", seed.sqlite_url(data, f"inbox-{size}-{number}.sqlite3"), True)]
        if not postgres_down:
            schema = f"bench_inbox_{secrets.token_hex(4)}"
            runs.append(("PostgreSQL", seed.postgres_url(schema), True))
        if accept_only and last:
            url = seed.sqlite_url(data, f"inbox-{size}-accept-only.sqlite3")
            runs.append(("SQLite, worker off (accept only)", url, False))
        bursts = {}
        for label, database_url, worker in runs:
            try:
                bursts[label] = run_fedi(
                    database_url, data, port, actors, public, requests, warmup,
                    drain_limit=DRAIN_LIMIT_S if last else 0, profile=profile if last else None,
                    name=f"inbox-{label}-{size}", worker=worker,
                )  # fmt: skip
            finally:
                asyncio.run(seed.drop_schema(database_url))
        measured.append(Round(ceiling, bursts))
    return measured


def _figures(size: int, measured: list[Round]) -> list[Figure]:
    """The rows of one size: for each database, the round with the median ratio."""
    figures: list[Figure] = []
    labels = list(measured[-1].runs)
    shown: dict[str, Round] = {}
    for label in labels:
        having = [r for r in measured if label in r.runs]
        having.sort(key=lambda r: r.runs[label].accepted / r.ceiling.accepted)
        shown[label] = having[len(having) // 2]
    each = [r.ceiling.accepted for r in measured]
    detail = _detail(measured[-1].ceiling)
    if len(each) > 1:
        detail = f"rounds: {', '.join(f'{c:,.0f}/s' for c in each)}; last: {detail}"
    figures.append(
        Figure("inbox", f"ceiling: verify-only route, {size:,} activities",
               sorted(each)[len(each) // 2], "accepted/s", detail=detail)
    )  # fmt: skip
    for label in labels:
        median = shown[label]
        burst, ceiling = median.runs[label], median.ceiling
        ratios = [
            f"{r.runs[label].accepted / r.ceiling.accepted:.0%}"
            for r in measured
            if label in r.runs
        ]
        detail = _detail(burst)
        if len(ratios) > 1:
            detail = f"rounds: {', '.join(ratios)}; this round's ceiling; " + detail
        last = measured[-1].runs[label]
        if last.handled_s and last is not burst:
            detail += (
                f"; last round: worker handled {last.handled:,}/{last.result.requests:,} "
                f"within {last.handled_s:.1f} s ({last.handled / last.handled_s:,.0f}/s)"
            )
        worker = label != "SQLite, worker off (accept only)"
        if worker:
            figures.append(
                ratio_figure("inbox", f"{label}, {size:,} activities", burst.accepted,
                             ceiling.accepted, "accepted/s", TARGET, detail,
                             handled_s=last.handled_s, handled=last.handled,
                             ratios=ratios)
            )  # fmt: skip
        else:
            figures.append(
                Figure("inbox", f"{label}, {size:,} activities (information)",
                       burst.accepted, "accepted/s", ceiling.accepted, detail=detail)
            )  # fmt: skip
        if worker and last.handled_s:
            figures.append(_drain_figure(label, size, last))
        peak = max(r.runs[label].peak_mb for r in measured if label in r.runs)
        figures.append(
            Figure("memory", f"RSS peak, inbox burst ({label}, {size:,})",
                   peak, "MB", None, "<= 150 MB", peak <= 150,
                   f"idle before: {burst.idle_mb:.0f} MB")
        )  # fmt: skip
    return figures


def _drain_figure(label: str, size: int, burst: Burst) -> Figure:
    """The worker's drain of one burst: handled/s (after the last answer) against
    accepted/s; short of ``DRAIN_LIMIT_S`` it counts as not met."""
    accept_s = burst.result.seconds
    complete = burst.handled >= burst.result.requests
    detail = (
        f"{burst.handled:,}/{burst.result.requests:,} handled {burst.handled_s:.1f} s after "
        f"the first request; accepting took {accept_s:.1f} s, so "
        f"{burst.handled_s / accept_s:.1f}x the accept time (target <= 3x)"
    )
    if burst.drain_items:
        detail += (
            f"; server CPU while draining: {burst.drain_cpu_s * 1e6 / burst.drain_items:,.0f} us"
            f" per item ({burst.drain_items:,} items)"
        )
    if not complete:
        detail += f"; NOT drained within {DRAIN_LIMIT_S:.0f} s"
    figure = ratio_figure(
        "inbox", f"{label}, {size:,} activities: worker drain", burst.drain_rate,
        burst.accepted, "handled/s", DRAIN_TARGET, detail,
        drain_s=burst.handled_s, accept_s=accept_s, handled=burst.handled,
    )  # fmt: skip
    if not complete:
        figure.met = False
    return figure


def main() -> int:
    parser = report.arguments(__doc__)
    parser.add_argument("--sizes", default="", help="comma-separated burst sizes")
    args = parser.parse_args()
    default = "300,1000" if args.quick else "1000,10000"
    sizes = sorted(int(s) for s in (args.sizes or default).split(","))
    figures, notes = run(args.quick, sizes, args.profile)
    return report.finish(figures, notes, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
