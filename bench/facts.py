"""The machine facts issue 6 builds on, re-measured: crypto, PEM parsing, queries, HTTP clients.

    python -m bench.facts [--quick] [--json out.json]

- RSA-2048 signatures and verifications per second on one core, the key already parsed;
  loading a PEM private key with and without ``cryptography``'s default key validation;
  parsing a public key.
- One trivial query (``SELECT 1``) through ``Store`` (SQLite: held reader connections) and
  through a bare ``databases.Database`` (a new aiosqlite connection and thread per query),
  and through ``Store`` on PostgreSQL.
- Signed POSTs per second from one process to a loopback receiver (``bench.receivers``,
  one host): httpx ``AsyncClient``, httpx on the ``httpx_aiohttp`` transport, aiohttp, and
  fedi-town's own ``RemoteClient``; pre-signed (one signature reused) and signed per request;
  16 and 64 concurrent requests. Clients missing from the virtualenv are skipped.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import report, seed
from bench.machine import cpu_seconds, self_cpu_seconds
from bench.report import Figure
from bench.servers import start_process

MESSAGE = b"(request-target): post /inbox\nhost: example.test\ndate: Tue, 07 Jun 2025 20:51:35 GMT"


def _per_second(fn: Callable[[], object], seconds: float) -> float:
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(10):
            fn()
        count += 10
    return count / elapsed


def crypto(seconds: float) -> list[Figure]:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    from fedi_town.protocol.keys import generate_rsa_keypair

    private_pem, public_pem = generate_rsa_keypair()
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    public = key.public_key()
    signature = key.sign(MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    sign = _per_second(lambda: key.sign(MESSAGE, padding.PKCS1v15(), hashes.SHA256()), seconds)
    verify = _per_second(
        lambda: public.verify(signature, MESSAGE, padding.PKCS1v15(), hashes.SHA256()), seconds
    )
    load = _per_second(
        lambda: serialization.load_pem_private_key(private_pem.encode(), password=None),
        seconds,
    )
    load_fast = _per_second(
        lambda: serialization.load_pem_private_key(
            private_pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
        ),
        seconds,
    )
    load_public = _per_second(
        lambda: serialization.load_pem_public_key(public_pem.encode()), seconds / 2
    )
    return [
        Figure("facts", "RSA-2048 sign (key parsed), 1 core", sign, "/s"),
        Figure("facts", "RSA-2048 verify (key parsed), 1 core", verify, "/s"),
        Figure("facts", "PEM private key load, default validation", 1000 / load, "ms",
               detail=f"{load:.0f}/s"),
        Figure("facts", "PEM private key load, unsafe_skip_rsa_key_validation", 1000 / load_fast,
               "ms", detail=f"{load_fast:.0f}/s"),
        Figure("facts", "PEM public key load", 1e6 / load_public, "us",
               detail=f"{load_public:,.0f}/s"),
    ]  # fmt: skip


async def _query_rate(run_query: Callable[[], Awaitable[object]], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        await run_query()
    return (time.perf_counter() - started) * 1000 / count


async def queries(count: int, data: Path) -> tuple[list[Figure], list[str]]:
    import databases

    from fedi_town.store.db import Store

    figures, notes = [], []
    url = seed.sqlite_url(data, "facts.sqlite3")
    store = Store(url)
    await store.connect()
    try:
        held = await _query_rate(lambda: store.fetch_val("SELECT 1"), count)
    finally:
        await store.disconnect()
    bare = databases.Database(url)
    await bare.connect()
    try:
        per_query = await _query_rate(lambda: bare.fetch_val("SELECT 1"), count // 4)
    finally:
        await bare.disconnect()
    figures.append(Figure("facts", "SQLite query via Store (held connections)", held, "ms"))
    figures.append(
        Figure("facts", "SQLite query via databases, per-query connection", per_query, "ms")
    )
    down = await seed.postgres_available()
    if down:
        notes.append(f"PostgreSQL query cost skipped: {down}")
        return figures, notes
    pg_url = seed.postgres_url(f"bench_facts_{secrets.token_hex(4)}")
    store = Store(pg_url)
    await store.connect()
    try:
        pg = await _query_rate(lambda: store.fetch_val("SELECT 1"), count)
    finally:
        await store.disconnect()
    figures.append(Figure("facts", "PostgreSQL query via Store (asyncpg pool)", pg, "ms"))
    return figures, notes


# -- HTTP clients ---------------------------------------------------------------------------

Poster = Callable[[str, bytes, dict[str, str]], Awaitable[int]]


async def _drive(
    post: Poster,
    url: str,
    body: bytes,
    sign: Callable[[], dict[str, str]],
    concurrency: int,
    count: int,
) -> tuple[float, float, float, int]:
    """(POSTs/s, p99 ms, client cores, non-2xx) for ``count`` POSTs."""
    latencies: list[float] = []
    bad = 0
    left = iter(range(count))

    async def sender() -> None:
        nonlocal bad
        for _ in left:
            started = time.perf_counter()
            status = await post(url, body, sign())
            latencies.append(time.perf_counter() - started)
            bad += not 200 <= status < 300

    cpu = self_cpu_seconds()
    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return count / elapsed, p99, (self_cpu_seconds() - cpu) / elapsed, bad


async def _clients(url: str, count: int, receiver_pid: int) -> list[Figure]:
    import httpx

    from fedi_town.protocol import httpsig
    from fedi_town.protocol.keys import generate_rsa_keypair, load_private_key
    from fedi_town.remote.http import RemoteClient
    from fedi_town.remote.signers import KeySigner

    private_pem, _ = generate_rsa_keypair()
    key = load_private_key(private_pem)
    body = json.dumps({"id": "http://127.0.1.1/x", "type": "Create", "pad": "x" * 1400}).encode()
    key_id = "http://127.0.0.1/users/bakery#main-key"

    def fresh() -> dict[str, str]:
        return httpsig.sign_request(
            "POST", url, {"Content-Type": "application/activity+json"}, body,
            key_id=key_id, private_key=key, now=datetime.now(UTC),
        )  # fmt: skip

    once = fresh()
    signers = {"pre-signed": lambda: once, "signed": fresh}
    figures: list[Figure] = []

    async def measure(name: str, post: Poster) -> None:
        for concurrency in (16, 64):
            for mode, sign in signers.items():
                receiver = cpu_seconds(receiver_pid)
                began = time.perf_counter()
                rate, p99, cores, bad = await _drive(post, url, body, sign, concurrency, count)
                receiver_cores = (cpu_seconds(receiver_pid) - receiver) / (
                    time.perf_counter() - began
                )
                figures.append(Figure(
                    "facts", f"{name}, {mode}, {concurrency} concurrent", rate, "POST/s",
                    detail=f"p99 {p99:.0f} ms; client {cores:.2f} cores, receiver "
                    f"{receiver_cores:.2f} cores" + (f"; {bad} non-2xx" if bad else ""),
                    extra={"p99_ms": p99},
                ))  # fmt: skip

    async def via_httpx(client: httpx.AsyncClient) -> Poster:
        async def post(target: str, data: bytes, headers: dict[str, str]) -> int:
            response = await client.post(target, content=data, headers=headers)
            return response.status_code

        return post

    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:
        await measure("httpx AsyncClient", await via_httpx(client))
    if importlib.util.find_spec("httpx_aiohttp") is not None:
        from httpx_aiohttp import AiohttpTransport

        transport = AiohttpTransport(limits=limits, trust_env=False)
        async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
            await measure("httpx on httpx-aiohttp transport", await via_httpx(client))
    if importlib.util.find_spec("aiohttp") is not None:
        import aiohttp

        async with aiohttp.ClientSession() as session:

            async def aio_post(target: str, data: bytes, headers: dict[str, str]) -> int:
                async with session.post(target, data=data, headers=headers) as response:
                    await response.read()
                    return response.status

            await measure("aiohttp ClientSession", aio_post)
    signer = KeySigner(key_id, private_pem, lambda: datetime.now(UTC))
    async with RemoteClient(allow_private=True, user_agent="bench") as remote:

        async def remote_post(target: str, data: bytes, headers: dict[str, str]) -> int:
            result = await remote.post_activity(target, data, signer=signer)
            return result.status or 0

        for concurrency in (16, 64):
            receiver = cpu_seconds(receiver_pid)
            began = time.perf_counter()
            rate, p99, cores, bad = await _drive(remote_post, url, body, dict, concurrency, count)
            receiver_cores = (cpu_seconds(receiver_pid) - receiver) / (time.perf_counter() - began)
            detail = f"p99 {p99:.0f} ms; client {cores:.2f} cores, "
            detail += f"receiver {receiver_cores:.2f} cores" + (f"; {bad} non-2xx" if bad else "")
            figures.append(Figure(
                "facts", f"fedi-town RemoteClient.post_activity, signed, {concurrency} concurrent",
                rate, "POST/s", detail=detail, extra={"p99_ms": p99},
            ))  # fmt: skip
    return figures


def http_clients(count: int, data: Path) -> list[Figure]:
    receiver = start_process(
        "facts-receiver", ["-m", "bench.receivers", "--hosts", "1"], log_dir=data
    )
    try:
        port = json.loads(receiver.ready)["port"]
        import uvloop

        return uvloop.run(_clients(f"http://127.0.1.1:{port}/inbox", count, receiver.pid))
    finally:
        receiver.stop()


def run(quick: bool) -> tuple[list[Figure], list[str]]:
    figures = crypto(0.5 if quick else 1.0)
    with tempfile.TemporaryDirectory(prefix="fedi-bench-facts-") as tmp:
        data = Path(tmp)
        found, notes = asyncio.run(queries(500 if quick else 2000, data))
        figures += found
        figures += http_clients(500 if quick else 2000, data)
    return figures, notes


def main() -> int:
    args = report.arguments(__doc__).parse_args()
    figures, notes = run(args.quick)
    return report.finish(figures, notes, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
