"""Read path: actor, WebFinger, a note and the outbox's first page, against a bare route.

    python -m bench.read_path [--quick] [--json out.json]

fedi-town runs under uvicorn (SQLite in a temporary directory) with one worker, then two;
a bare Starlette app serving the very same bytes (captured from fedi-town) is the ceiling
for each, with the same worker count. The load comes from ``wrk`` (one thread) when it is
installed, else from ``bench.loadgen``'s asyncio client; either way in another process than
the server. Target: each document at >= 70% of the bare route's requests per second.

Mastodon signs its GETs: one more row (information, no target) fetches the actor with a
draft-cavage signature made before the clock starts, by a remote actor whose key is
stored, so every request pays the fetch guard (parse, verify, block checks) as it would.

If the Fedify interop peer is installed (``make node-deps``), its actor document is
measured the same way, for comparison only.
"""

from __future__ import annotations

import asyncio
import base64
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import loadgen, report, seed
from bench.machine import CpuMeter, RssSampler, load_average, memory_mb
from bench.profile import sampled
from bench.report import Figure, ratio_figure
from bench.servers import Server, free_port, start_server, write_json
from fedi_town.protocol.httpsig import sign_request
from fedi_town.protocol.keys import generate_rsa_keypair, load_private_key

AP = "application/activity+json"
TARGET = 0.70
CONNECTIONS = 32
POSTS = 25
#: The remote actor whose signed GETs the "signed" row sends (its key is stored up front).
SIGNER = "https://mastodon.example/users/reader"
#: Response headers the bare route copies (the rest uvicorn adds for both).
COPIED = ("content-type", "cache-control", "vary", "access-control-allow-origin", "link")


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


async def _prepare(database_url: str, base: str, data_dir: Path) -> tuple[str, str]:
    """The business's owner token, and the private key of a remote signer we know."""
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
    return token, private_pem


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


def _detail(result: loadgen.LoadResult, cores: float) -> str:
    p99 = f"{result.p99_ms:.1f} ms" if result.p99_ms is not None else "-"
    client = result.client_cpu_s / result.seconds if result.seconds else 0
    return f"p99 {p99}; server {cores:.2f} cores, {result.tool} {client:.2f} cores"


def _generator_check(
    bare: Server, point: Endpoint, seconds: float, results: dict[tuple[str, int, str], Any]
) -> Figure:
    """The asyncio client (used by the inbox benchmark) against the bare route, beside wrk."""
    with CpuMeter(bare.pid) as cpu:
        result = loadgen.run_for(
            "127.0.0.1",
            bare.port,
            loadgen.build_get(point.path, f"127.0.0.1:{bare.port}", point.headers),
            CONNECTIONS,
            seconds,
        )
    wrk_rate = results["bare", 1, point.name][0].rate
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


def run(quick: bool, profile: Path | None = None) -> tuple[list[Figure], list[str]]:
    seconds, warmup = (1.0, 1.0) if quick else (3.0, 1.0)
    notes = [
        f"load: {'wrk -t1' if loadgen.have_wrk() else 'asyncio client'} with {CONNECTIONS} "
        f"keep-alive connections, {seconds:.0f} s per figure after {warmup:.0f} s warm-up; "
        f"1-minute load average before: {load_average():.2f}"
    ]
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="fedi-bench-read-") as tmp:
        data = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        database_url = seed.sqlite_url(data)
        token, signer_pem = asyncio.run(_prepare(database_url, base, data))
        env = seed.server_env(database_url, base, data)
        fedi_ready = "/.well-known/nodeinfo"
        results: dict[tuple[str, int, str], tuple[loadgen.LoadResult, float]] = {}

        fedi = start_server("fedi", env=env, port=port, log_dir=data, ready_path=fedi_ready)
        try:
            time.sleep(1.0)
            idle_mb = memory_mb(fedi.pid)[0]
            points = endpoints(f"127.0.0.1:{port}", _write_posts(fedi, token))
            docs = _capture(fedi, points)
            signed = signed_actor(base, signer_pem)
            with RssSampler(fedi.pid) as rss:
                for point in [*points, signed]:
                    results["fedi", 1, point.name] = _measure(fedi, point, seconds, warmup, profile)
        finally:
            fedi.stop()
        figures.append(
            Figure("memory", "RSS idle (read benchmark, after start)", idle_mb, "MB", None,
                   "<= 80 MB", idle_mb <= 80)
        )  # fmt: skip
        figures.append(
            Figure("memory", "RSS peak under read load", rss.peak_mb, "MB", None, "<= 150 MB",
                   rss.peak_mb <= 150)
        )  # fmt: skip
        bare_env = {"BENCH_BARE_DOCS": str(write_json(data / "docs.json", docs))}
        for workers in (1, 2):
            bare = start_server("bare-read", env=bare_env, workers=workers, log_dir=data)
            try:
                for point in points:
                    results["bare", workers, point.name] = _measure(bare, point, seconds, warmup)
                if workers == 1 and loadgen.have_wrk():
                    figures.append(_generator_check(bare, points[0], seconds, results))
            finally:
                bare.stop()
            if workers == 2:
                fedi = start_server(
                    "fedi", env=env, port=port, workers=2, log_dir=data, ready_path=fedi_ready
                )
                try:
                    for point in [*points, signed]:
                        results["fedi", 2, point.name] = _measure(
                            fedi, point, seconds, warmup, profile
                        )
                finally:
                    fedi.stop()
        for workers in (1, 2):
            for point in points:
                mine, cores = results["fedi", workers, point.name]
                ceiling, _ = results["bare", workers, point.name]
                size = docs[point.path.split("?", 1)[0]]["size"]
                figures.append(
                    ratio_figure(
                        "read",
                        f"{point.name}, {workers} worker{'s' if workers > 1 else ''}",
                        mine.rate,
                        ceiling.rate,
                        "req/s",
                        TARGET,
                        detail=f"{_detail(mine, cores)}; bare p99 {ceiling.p99_ms:.1f} ms; "
                        f"{size} B",
                        p99_ms=mine.p99_ms,
                        bare_p99_ms=ceiling.p99_ms,
                    )
                )
        for workers in (1, 2):
            mine, cores = results["fedi", workers, signed.name]
            ceiling, _ = results["bare", workers, "actor"]
            figures.append(
                Figure(
                    "read",
                    f"actor, signed GET (as Mastodon fetches; information), {workers} "
                    f"worker{'s' if workers > 1 else ''}",
                    mine.rate,
                    "req/s",
                    ceiling.rate,
                    detail=f"{_detail(mine, cores)}; every request verified by the fetch "
                    "guard; ceiling: the bare unsigned actor route",
                    extra={"p99_ms": mine.p99_ms},
                )
            )
        figures += _fedify(seconds, warmup, results["fedi", 1, "actor"][0].rate)
    if not any(f.name.startswith("Fedify") for f in figures):
        notes.append("Fedify comparison skipped: tests/interop/fedify-peer is not installed")
    return figures, notes


def main() -> int:
    args = report.arguments(__doc__).parse_args()
    figures, notes = run(args.quick, args.profile)
    return report.finish(figures, notes, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
