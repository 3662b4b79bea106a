"""Read path: actor, WebFinger, a note and the outbox's first page, against bare servers.

    python -m bench.read_path [--quick] [--json out.json]

fedi-town runs as users run it: the installed ``fedi-town serve`` with its default settings
(only ``FEDI_TOWN_*`` naming the database, base URL, port, key encryption key and media
directory), one web process on SQLite, then ``--workers 2`` on PostgreSQL (which two web
processes need; skipped without PostgreSQL). Beside it, in the same round and with the same
process count, two ceilings serve the very same bytes (captured from fedi-town) under
``bench.serve``: a bare Starlette route (target: fedi-town >= 90% of it) and a bare ASGI
callable, no framework (target >= 70%). The load comes from ``wrk`` (one thread) when it is
installed, else from ``bench.loadgen``'s asyncio client; either way in another process.
Each endpoint is measured on fedi-town and its ceilings in turn, ``ROUNDS`` times, and a row
reports the round with the median ratio, listing every round's: measured one after the
other for seconds each, the ratio moved by ±25% between runs with no code change.

Mastodon signs its GETs: the actor is also fetched with a draft-cavage signature made
before the clock starts, by a remote actor whose key is stored, so every request pays the
fetch guard (parse, verify, block checks). Its ceiling is a bare ASGI app that verifies the
same signature with ``fedi_town.protocol.httpsig`` (key parsed in advance) and answers the
same bytes (target >= 70%). A last row (information) serves the actor from a second
``fedi-town serve`` with ``FEDI_TOWN_ACCESS_LOG=on``, its lines going to a file.

If the Fedify interop peer is installed (``make node-deps``), its actor document is
measured the same way, for comparison only.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import loadgen, report, seed
from bench.machine import CpuMeter, RssSampler, load_average, memory_mb
from bench.profile import sampled
from bench.report import Figure, ratio_figure
from bench.servers import Server, free_port, start_fedi_town, start_server, write_json
from fedi_town.protocol.httpsig import sign_request
from fedi_town.protocol.keys import generate_rsa_keypair, load_private_key

AP = "application/activity+json"
#: fedi-town as users run it, against the bare Starlette route and the bare ASGI app
TARGET_STARLETTE = 0.90
TARGET_ASGI = 0.70
#: the signed actor GET, against the verify-only ASGI app
TARGET_SIGNED = 0.70
CONNECTIONS = 32
#: Each figure and its ceilings are measured in turns, this many times; a row reports the
#: turn with the median ratio (this machine's speed drifts by up to 2x over seconds, so
#: one long measurement of each, one after the other, compared drift as often as code).
ROUNDS = 3
POSTS = 25
#: The remote actor whose signed GETs the "signed" row sends (its key is stored up front).
SIGNER = "https://mastodon.example/users/reader"
#: Response headers the bare route copies (the rest uvicorn adds for both).
COPIED = ("content-type", "cache-control", "vary", "access-control-allow-origin", "link")


Measured = tuple[loadgen.LoadResult, float]
#: (server kind, endpoint name) -> one (load result, server cores) per round
Results = dict[tuple[str, str], list[Measured]]


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str  # with query
    headers: dict[str, str]


def endpoints(host: str, note_path: str) -> list[Endpoint]:
    accept = {"Accept": AP}
    return [
        Endpoint("actor", "/users/bakery", accept),
        Endpoint("webfinger", f"/.well-known/webfinger?resource=acct:bakery@{host}", {}),
        Endpoint("note", note_path, accept),
        Endpoint("outbox page 1", "/users/bakery/outbox?page=1", accept),
    ]


async def _prepare(database_url: str, base: str, data_dir: Path) -> tuple[str, str, str]:
    """The business's owner token, and the private and public keys of a remote signer we
    know (its key is stored, as for any actor that wrote to us before)."""
    services = await seed.open_services(database_url, base, data_dir)
    try:
        _, token = await seed.create_business(services)
    finally:
        await services.store.disconnect()
    private_pem, public_pem = generate_rsa_keypair()
    signer = seed.RemoteActorRow(
        SIGNER, SIGNER + "/inbox", key_id=SIGNER + "#main-key", public_pem=public_pem
    )
    await seed.load_actors(database_url, [signer])
    return token, private_pem, public_pem


def signed_actor(base: str, private_pem: str) -> Endpoint:
    """The actor, GET signed as Mastodon signs it (same headers for every request: each one
    is verified anyway, there is no memo of signatures)."""
    url = f"{base}/users/bakery"
    headers = sign_request(
        "GET",
        url,
        {"Accept": AP},
        None,
        key_id=SIGNER + "#main-key",
        private_key=load_private_key(private_pem),
        now=datetime.now(UTC),
    )
    return Endpoint("actor, signed GET", "/users/bakery", headers)


def _write_posts(server: Server, token: str) -> str:
    """Post through the admin API; return the path of the last post's note."""
    note = ""
    with httpx.Client(base_url=server.base, timeout=30, trust_env=False) as client:
        for i in range(POSTS):
            response = client.post(
                "/api/v1/businesses/bakery/posts",
                json={"content": f"Fresh rye bread, batch {i}. #bread #local"},
                headers={"Authorization": f"Bearer {token}"},
            )
            response.raise_for_status()
            note = response.json()["uri"]
    return "/" + note.split("/", 3)[3]


def _capture(server: Server, points: list[Endpoint]) -> dict[str, dict[str, object]]:
    """Each endpoint's body and headers as fedi-town serves them (the bare route's input)."""
    docs: dict[str, dict[str, object]] = {}
    with httpx.Client(base_url=server.base, timeout=30, trust_env=False) as client:
        for point in points:
            response = client.get(point.path, headers=point.headers)
            if response.status_code != 200:
                raise RuntimeError(f"{point.name}: HTTP {response.status_code}")
            docs[point.path.split("?", 1)[0]] = {
                "body": base64.b64encode(response.content).decode(),
                "headers": {k: v for k, v in response.headers.items() if k.lower() in COPIED},
                "size": len(response.content),
            }
    return docs


def _measure(
    server: Server,
    point: Endpoint,
    seconds: float,
    warmup: float,
    profile: Path | None = None,
) -> tuple[loadgen.LoadResult, float]:
    """(load result, server CPU share in cores) for one endpoint."""
    if warmup:
        loadgen.get_load(
            "127.0.0.1",
            server.port,
            point.path,
            headers=point.headers,
            connections=CONNECTIONS,
            seconds=warmup,
        )
    label = f"read {point.name} {server.name}"
    with CpuMeter(server.pid) as cpu, sampled(server.pid, profile, label):
        result = loadgen.get_load(
            "127.0.0.1",
            server.port,
            point.path,
            headers=point.headers,
            connections=CONNECTIONS,
            seconds=seconds,
        )
    bad = result.requests - result.ok(200)
    if bad or result.errors:
        raise RuntimeError(f"{server.name} {point.name}: {bad} bad answers, {result.errors} errors")
    return result, cpu.server_s / result.seconds


def _interleaved(
    results: Results,
    contenders: list[tuple[str, Server]],
    point: Endpoint,
    seconds: float,
    warmup: float,
    rounds: int,
    profile: Path | None,
) -> None:
    """Measure ``point`` on each server in turn, ``rounds`` times (each warmed up once
    first), so that every round's figures are taken seconds apart. Only fedi-town's first
    round is profiled."""
    for _kind, server in contenders:
        _measure(server, point, warmup, 0)
    for turn in range(rounds):
        for kind, server in contenders:
            recorded = profile if kind == "fedi" and turn == 0 else None
            measured = _measure(server, point, seconds, 0, recorded)
            results.setdefault((kind, point.name), []).append(measured)


def _median_round(mine: list[Measured], ceiling: list[Measured]) -> tuple[int, str]:
    """The round whose ratio is the median, and every round's ratio (for the detail)."""
    return report.median_round(
        [m[0].rate / c[0].rate if c[0].rate else 0.0 for m, c in zip(mine, ceiling, strict=True)]
    )


def _detail(result: loadgen.LoadResult, cores: float) -> str:
    p99 = f"{result.p99_ms:.1f} ms" if result.p99_ms is not None else "-"
    client = result.client_cpu_s / result.seconds if result.seconds else 0
    return (
        f"p99 {p99}; server {cores:.2f} cores ({_cpu_us(result, cores)}), "
        f"{result.tool} {client:.2f} cores"
    )


def _cpu_us(result: loadgen.LoadResult, cores: float) -> str:
    """Server CPU per request: steadier than the rate on a machine shared with other work
    (a busy neighbour slows the rate, much less the CPU each request takes)."""
    return f"{cores / result.rate * 1e6:.0f} us CPU/req" if result.rate else "-"


def _generator_check(bare: Server, point: Endpoint, seconds: float, results: Results) -> Figure:
    """The asyncio client (used by the inbox benchmark) against the bare route, beside wrk."""
    with CpuMeter(bare.pid) as cpu:
        result = loadgen.run_for(
            "127.0.0.1",
            bare.port,
            loadgen.build_get(point.path, f"127.0.0.1:{bare.port}", point.headers),
            CONNECTIONS,
            seconds,
        )
    wrk_rate = statistics.median(r.rate for r, _ in results["starlette", point.name])
    return Figure(
        "read",
        "load generator check: asyncio client on the bare actor route (information)",
        result.rate,
        "req/s",
        wrk_rate,
        detail=f"{_detail(result, cpu.server_s / result.seconds)}; ceiling column: wrk",
    )


def _fedify(seconds: float, warmup: float, fedi_actor: float | None) -> list[Figure]:
    try:
        from tests.interop import harness
    except ImportError:
        return []
    if not harness.is_installed():
        return []
    peer = harness.FedifyProcess.start()
    try:
        point = Endpoint("Fedify actor", f"/users/{peer.username}", {"Accept": AP})
        server = Server("fedify", peer.process, str(peer.port), peer.stderr_path, peer.port)
        result, cores = _measure(server, point, seconds, warmup)
    finally:
        peer.stop()
    versus = f"; fedi-town 1 worker: {fedi_actor / result.rate:.1f}x" if fedi_actor else ""
    return [
        Figure(
            "read",
            "Fedify 2.3.6 actor, 1 node process (comparison, no target)",
            result.rate,
            "req/s",
            detail=_detail(result, cores) + versus,
            extra={"p99_ms": result.p99_ms},
        )
    ]


def _user_env(database_url: str, base: str, data: Path, **extra: str) -> dict[str, str]:
    """What a user sets to run this instance: where its database is, its public URL, the
    key that encrypts its private keys; every other setting is the default (the log level,
    the in-process worker, the access log off)."""
    return {
        "FEDI_TOWN_BASE_URL": base,
        "FEDI_TOWN_DATABASE_URL": database_url,
        "FEDI_TOWN_KEY_ENCRYPTION_KEYS": seed.KEY_ENCRYPTION_KEY,
        "FEDI_TOWN_MEDIA_DIR": str(data / "media"),
        **extra,
    }


@dataclass
class Round:
    """One worker count: fedi-town and its ceilings, all started before any is measured,
    so that each row's figures are taken seconds apart."""

    workers: int
    database: str
    points: list[Endpoint]
    signed: Endpoint
    docs: dict[str, dict[str, object]]
    results: Results


def _round(
    workers: int,
    database: str,
    database_url: str,
    data: Path,
    seconds: float,
    warmup: float,
    rounds: int,
    profile: Path | None,
    figures: list[Figure],
) -> Round:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    token, signer_pem, signer_public = asyncio.run(_prepare(database_url, base, data))
    env = _user_env(database_url, base, data)
    log_dir = data / f"w{workers}"
    log_dir.mkdir()
    fedi = start_fedi_town(env=env, port=port, workers=workers, log_dir=log_dir)
    servers = [fedi]
    try:
        if workers == 1:
            time.sleep(1.0)
            idle_mb = memory_mb(fedi.pid)[0]
        points = endpoints(f"127.0.0.1:{port}", _write_posts(fedi, token))
        signed = signed_actor(base, signer_pem)
        docs = _capture(fedi, points)
        verify_doc = _capture(fedi, [signed])["/users/bakery"]
        bare_env = {"BENCH_BARE_DOCS": str(write_json(log_dir / "docs.json", docs))}
        keys = {"keys": {SIGNER + "#main-key": signer_public}, "origin": base}
        verify_env = {
            "BENCH_BARE_KEYS": str(write_json(log_dir / "keys.json", {**keys, "doc": verify_doc}))
        }
        started = {
            "starlette": start_server("bare-read", env=bare_env, workers=workers, log_dir=log_dir),
            "asgi": start_server("bare-asgi", env=bare_env, workers=workers, log_dir=log_dir),
            "verify": start_server("bare-verify", env=verify_env, workers=workers, log_dir=log_dir),
        }
        servers += started.values()
        logged = None
        if workers == 1:
            log_port = free_port()
            logged = start_fedi_town(
                env={**env, "FEDI_TOWN_ACCESS_LOG": "on"},
                port=log_port,
                log_dir=log_dir,
                name="fedi-town-access-log",
            )
            servers.append(logged)
        results: Results = {}
        with RssSampler(fedi.pid) as rss:
            for point in points:
                contenders = [("fedi", fedi)]
                if logged is not None and point.name == "actor":
                    contenders.append(("logged", logged))
                contenders += [(kind, started[kind]) for kind in ("starlette", "asgi")]
                _interleaved(results, contenders, point, seconds, warmup, rounds, profile)
            contenders = [("fedi", fedi), ("verify", started["verify"])]
            _interleaved(results, contenders, signed, seconds, warmup, rounds, profile)
        if workers == 1 and loadgen.have_wrk():
            figures.append(_generator_check(started["starlette"], points[0], seconds, results))
        if workers == 1:
            figures.append(
                Figure("memory", "RSS idle (read benchmark, after start)", idle_mb, "MB", None,
                       "<= 80 MB", idle_mb <= 80)
            )  # fmt: skip
            figures.append(
                Figure("memory", "RSS peak under read load", rss.peak_mb, "MB", None,
                       "<= 150 MB", rss.peak_mb <= 150)
            )  # fmt: skip
    finally:
        for server in servers:
            server.stop()
    return Round(workers, database, points, signed, docs, results)


def _figures(done: Round) -> list[Figure]:
    """Each document beside both ceilings; the signed GET beside its verify-only ceiling."""
    figures: list[Figure] = []
    workers = f"{done.workers} worker{'s' if done.workers > 1 else ''}"
    results = done.results
    for point in done.points:
        size = done.docs[point.path.split("?", 1)[0]]["size"]
        for kind, label, target in (
            ("starlette", "bare Starlette", TARGET_STARLETTE),
            ("asgi", "bare ASGI", TARGET_ASGI),
        ):
            turn, listed = _median_round(results["fedi", point.name], results[kind, point.name])
            mine, cores = results["fedi", point.name][turn]
            ceiling, ceiling_cores = results[kind, point.name][turn]
            figures.append(
                ratio_figure(
                    "read",
                    f"{point.name}, {workers} ({done.database}) vs {label}",
                    mine.rate,
                    ceiling.rate,
                    "req/s",
                    target,
                    detail=f"{listed}; {_detail(mine, cores)}; {label} p99 "
                    f"{ceiling.p99_ms:.1f} ms, {ceiling_cores:.2f} cores "
                    f"({_cpu_us(ceiling, ceiling_cores)}); {size} B",
                    p99_ms=mine.p99_ms,
                    ceiling_p99_ms=ceiling.p99_ms,
                )
            )
    turn, listed = _median_round(
        results["fedi", done.signed.name], results["verify", done.signed.name]
    )
    mine, cores = results["fedi", done.signed.name][turn]
    ceiling, ceiling_cores = results["verify", done.signed.name][turn]
    figures.append(
        ratio_figure(
            "read",
            f"actor, signed GET (as Mastodon fetches), {workers} ({done.database}) "
            "vs verify-only ASGI",
            mine.rate,
            ceiling.rate,
            "req/s",
            TARGET_SIGNED,
            detail=f"{listed}; {_detail(mine, cores)}; every request verified; ceiling p99 "
            f"{ceiling.p99_ms:.1f} ms, {ceiling_cores:.2f} cores "
            f"({_cpu_us(ceiling, ceiling_cores)})",
            p99_ms=mine.p99_ms,
        )
    )
    if ("logged", "actor") in results:
        turn, listed = _median_round(results["logged", "actor"], results["fedi", "actor"])
        logged, cores = results["logged", "actor"][turn]
        unlogged, _ = results["fedi", "actor"][turn]
        figures.append(
            Figure(
                "read",
                f"actor, {workers}, FEDI_TOWN_ACCESS_LOG=on (information; ceiling: the "
                "same server as shipped, access log off)",
                logged.rate,
                "req/s",
                unlogged.rate,
                detail=f"{listed}; {_detail(logged, cores)}; lines to a file",
            )
        )
    return figures


def run(quick: bool, profile: Path | None = None) -> tuple[list[Figure], list[str]]:
    seconds, warmup, repeats = (1.0, 1.0, 1) if quick else (1.5, 1.0, ROUNDS)
    notes = [
        f"load: {'wrk -t1' if loadgen.have_wrk() else 'asyncio client'} with {CONNECTIONS} "
        f"keep-alive connections; each figure and its ceilings measured in turn, {repeats} "
        f"round(s) of {seconds:.1f} s each after a {warmup:.0f} s warm-up, the median "
        "round's ratio reported; "
        f"1-minute load average before: {load_average():.2f}"
    ]
    figures: list[Figure] = []
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="fedi-bench-read-") as tmp:
        data = Path(tmp)
        sqlite = seed.sqlite_url(data)
        rounds.append(_round(1, "SQLite", sqlite, data, seconds, warmup, repeats, profile, figures))
        why_not = asyncio.run(seed.postgres_available())
        if why_not is None:
            database_url = seed.postgres_url(f"bench_read_{secrets.token_hex(4)}")
            try:
                rounds.append(
                    _round(
                        2,
                        "PostgreSQL",
                        database_url,
                        data,
                        seconds,
                        warmup,
                        repeats,
                        profile,
                        figures,
                    )
                )
            finally:
                asyncio.run(seed.drop_schema(database_url))
        else:
            notes.append(
                f"2 workers skipped (fedi-town serve --workers needs PostgreSQL): {why_not}"
            )
        for done in rounds:
            figures += _figures(done)
        actor = statistics.median(r.rate for r, _ in rounds[0].results["fedi", "actor"])
        figures += _fedify(seconds, warmup, actor)
    if not any(f.name.startswith("Fedify") for f in figures):
        notes.append("Fedify comparison skipped: tests/interop/fedify-peer is not installed")
    return figures, notes


def main() -> int:
    args = report.arguments(__doc__).parse_args()
    figures, notes = run(args.quick, args.profile)
    return report.finish(figures, notes, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
