"""Shared fixtures: both database backends, a fixed clock, an app with its services.

Every test that takes ``store`` or ``services`` runs twice: on a fresh SQLite file and on a
fresh schema of the real PostgreSQL at FEDI_TOWN_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test). When PostgreSQL is unreachable the PostgreSQL
half is skipped loudly, except with CI=true, where that is a failure.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedi_town.app import create_app
from fedi_town.protocol.urls import Urls
from fedi_town.remote.http import RemoteClient
from fedi_town.remote.signers import InstanceKey
from fedi_town.services import Services
from fedi_town.settings import Settings
from fedi_town.store.db import Store
from tests.inbound.helpers import keypair
from tests.outbound.conftest import add_follower

POSTGRES_URL = os.environ.get(
    "FEDI_TOWN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
#: The tests' fixed key encryption key (FEDI_TOWN_KEY_ENCRYPTION_KEYS), a test value only.
KEY_ENCRYPTION_KEY = "WwVURo2OeJdsQnH9_8sWOjs3q5RW5rSNSQ6Zg8v3m8o="
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

#: the loopback S3 server's fixtures (tests/s3.py)
pytest_plugins = ["tests.s3"]

_pg_state: dict[str, Any] = {}


def _postgres_reachable() -> str | None:
    """None when PostgreSQL answers, else why not (checked once per session)."""
    if "error" not in _pg_state:

        async def probe() -> None:
            import asyncpg

            conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
            await conn.close()

        try:
            asyncio.run(probe())
            _pg_state["error"] = None
        except Exception as exc:  # any failure to connect means "unreachable"
            _pg_state["error"] = f"{exc.__class__.__name__}: {exc}"
    return _pg_state["error"]


#: Files that take long for their number of tests (a real server per test, a browser, the
#: Fedify peer, a pip install, a PostgreSQL cluster restarted): started first. Under
#: ``--dist loadfile --no-loadscope-reorder`` (Makefile) the other files follow, those with
#: the most tests first; otherwise these few would be handed out last and finish alone.
SLOW_FIRST = (
    "tests/deploy/test_install.py",
    "tests/hostile/test_openapi_schemathesis.py",
    "tests/faults/",
    "tests/interop/",
    "tests/mastodon/test_masto_js",
    "tests/test_supervisor.py",
    "tests/test_worker_processes.py",
    "tests/webapp/test_passkeys.py",
    "browser.py",
)


def _slow_rank(path: str) -> int:
    for rank, mark in enumerate(SLOW_FIRST):
        if path.startswith(mark) or path.endswith(mark):
            return rank
    return len(SLOW_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Known slow files first, then files by number of tests (see ``SLOW_FIRST``); the tests
    of one file keep their order."""
    counts: dict[str, int] = {}
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        counts[path] = counts.get(path, 0) + 1
    items.sort(
        key=lambda item: (
            _slow_rank(path := item.nodeid.split("::", 1)[0]),
            -counts[path],
            path,
        )
    )


def pytest_report_header(config: pytest.Config) -> str:
    error = _postgres_reachable()
    if error is None:
        return f"PostgreSQL: {POSTGRES_URL} (tests run on SQLite and PostgreSQL)"
    return f"PostgreSQL UNREACHABLE at {POSTGRES_URL}: {error} -- its half is skipped"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _POOL.drop_all()
    error = _pg_state.get("error")
    if error:
        print(f"\n*** PostgreSQL was unreachable ({error}); PostgreSQL tests did not run ***")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of a database holding no data: a new SQLite file, or a PostgreSQL schema.

    The PostgreSQL schema comes migrated and emptied from this process's pool
    (``_SchemaPool``); a test marked ``empty_database`` gets a new schema with no tables."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    if request.node.get_closest_marker("empty_database"):
        yield from _postgres_schema()
        return
    yield from _POOL.lend()


@pytest.fixture
def other_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the other backend than ``database_url``'s."""
    if not database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.sqlite3'}"
        return
    yield from _postgres_schema()


def _require_postgres() -> None:
    """Go on only with PostgreSQL reachable: under CI its absence fails the test; elsewhere the
    test is skipped, loudly (``pytest_sessionfinish``), until the server answers again."""
    error = _postgres_reachable()
    if error is None:
        return
    if IN_CI:
        pytest.fail(f"PostgreSQL is required in CI and unreachable: {error}")
    pytest.skip(f"PostgreSQL unreachable until it answers again: {error}")


def _postgres_schema() -> Iterator[str]:
    """The URL of a new PostgreSQL schema, dropped afterwards; fails under CI and is skipped
    elsewhere, loudly (``pytest_sessionfinish``), while the server is unreachable."""
    _require_postgres()
    schema = f"t_{secrets.token_hex(6)}"
    yield _schema_url(schema)

    async def drop() -> None:
        import asyncpg

        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await conn.close()

    asyncio.run(drop())


class _SchemaPool:
    """Migrated PostgreSQL schemas, emptied and lent again, one pool per test process.

    Creating the schema of a new database costs 0.5-0.8 s of DDL on PostgreSQL (it is ~20 ms
    on SQLite), more than most tests themselves, and half of the suite runs on PostgreSQL.
    A schema is lent migrated (``migrate`` then applies nothing, as on an instance that is up
    to date) and, when the test is done, emptied with one DELETE per table, which costs a
    few milliseconds. A schema whose tables or version changed under the test (one that
    migrates, drops or alters) is dropped instead of lent again."""

    def __init__(self) -> None:
        self.free: list[str] = []
        self.shape: tuple[int, int] | None = None  # (relations, version) of a fresh schema

    def lend(self) -> Iterator[str]:
        _require_postgres()
        schema = self.free.pop() if self.free else asyncio.run(self._create())
        try:
            yield _schema_url(schema)
        finally:
            if asyncio.run(self._empty(schema)):
                self.free.append(schema)

    async def _create(self) -> str:
        from fedi_town.store.migrations import migrate

        schema = f"t_{secrets.token_hex(6)}"
        store = Store(_schema_url(schema))
        await store.connect()
        try:
            await migrate(store)
        finally:
            await store.disconnect()
        if self.shape is None:
            self.shape = await _with_admin(lambda conn: _shape(conn, schema))
        return schema

    async def _empty(self, schema: str) -> bool:
        """Delete every row but the migration record; False (and the schema dropped) when
        the schema is no longer the migrated one or cannot be emptied."""

        async def empty(conn: Any) -> bool:
            try:
                await conn.execute("SET lock_timeout = '10s'")
                if await _shape(conn, schema) != self.shape:
                    raise LookupError("schema changed by the test")
                tables = await conn.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = $1"
                    " AND tablename <> 'schema_migrations'",
                    schema,
                )
                deletes = "".join(f'DELETE FROM {schema}."{t["tablename"]}";' for t in tables)
                # replica: no foreign-key triggers, so the order of the deletes does not matter
                await conn.execute(
                    "BEGIN; SET LOCAL session_replication_role = replica;" + deletes + "COMMIT;"
                )
                return True
            except Exception:  # anything odd: never lend it again
                if conn.is_in_transaction():
                    await conn.execute("ROLLBACK")
                await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                return False

        return bool(await _with_admin(empty))

    def drop_all(self) -> None:
        """Drop the schemas of the pool (at the end of the session)."""

        async def drop(conn: Any) -> None:
            for schema in self.free:
                await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")

        if self.free:
            asyncio.run(_with_admin(drop))
            self.free.clear()


async def _with_admin(action: Any) -> Any:
    """Run ``action(conn)`` on a plain connection to the test database."""
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        return await action(conn)
    finally:
        await conn.close()


async def _shape(conn: Any, schema: str) -> tuple[int, int]:
    """(number of relations, migration version) of ``schema``: what a test must not change."""
    relations = await conn.fetchval(
        "SELECT COUNT(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = $1",
        schema,
    )
    version = await conn.fetchval(f"SELECT MAX(version) FROM {schema}.schema_migrations")
    return int(relations), int(version or 0)


def _schema_url(schema: str) -> str:
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}schema={schema}"


_POOL = _SchemaPool()


FIXED_NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


class FixedClock:
    """A clock that stands still until a test moves it (``Services.clock``): what depends on
    time is tested by moving the clock, never by sleeping."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@pytest.fixture
def clock() -> FixedClock:
    """A fixed clock at ``FIXED_NOW``; ``clock.advance(...)`` moves it."""
    return FixedClock()


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "base_url": "https://town.example",
        "database_url": database_url,
        "admin_token": ADMIN_TOKEN,
        "key_encryption_keys": (KEY_ENCRYPTION_KEY,),
        "media_dir": tmp_path / "media",
        "worker": "off",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A connected, migrated, empty store."""
    from fedi_town.store.migrations import migrate

    s = Store(database_url)
    await s.connect()
    await migrate(s)
    try:
        yield s
    finally:
        await s.disconnect()


@pytest.fixture
async def services(settings: Settings, store: Store) -> AsyncIterator[Services]:
    """Services over the test store, started by hand: an instance key and a remote client
    that may reach loopback test peers (no app, no worker)."""
    result = Services(settings=settings, store=store, urls=Urls(settings.base_url))
    private_pem, public_pem = keypair()
    result.instance_key = InstanceKey(
        result.urls.instance_key_id(), private_pem, public_pem, result.clock
    )
    client = result.remote = RemoteClient(allow_private=True, user_agent="fedi-town-tests")
    try:
        yield result
    finally:
        await client.close()


@pytest.fixture
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to the whole app in-process, lifespan run (the real clock)."""
    async with _app_client(Services.from_settings(settings)) as client:
        yield client


@pytest.fixture
async def clocked_client(settings: Settings, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    """``app_client`` whose services read the fixed ``clock``."""
    async with _app_client(Services.from_settings(settings, clock=clock)) as client:
        yield client


@asynccontextmanager
async def _app_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    settings = services.settings
    app = create_app(settings, services)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:
            client.services = services  # type: ignore[attr-defined]
            yield client


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def create_business(
    client: httpx.AsyncClient, username: str = "bakery", **extra: Any
) -> dict[str, Any]:
    """Create a business through the admin API; return its JSON (with owner_token)."""
    body = {"username": username, "display_name": extra.pop("display_name", "Corner Bakery")}
    body.update(extra)
    response = await client.post("/api/v1/businesses", json=body, headers=admin_headers())
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


@pytest.fixture
async def bakery(app_client: httpx.AsyncClient) -> dict[str, Any]:
    """A business (its API JSON) with two followers on one server (one shared inbox) and one
    elsewhere. tests/inbound has its own ``bakery``: the stored business."""
    business = await create_business(app_client, "bakery")
    store = app_client.services.store
    shared = "https://m.example/inbox"
    await add_follower(store, business["id"], "https://m.example/users/ann", shared_inbox=shared)
    await add_follower(store, business["id"], "https://m.example/users/ben", shared_inbox=shared)
    await add_follower(store, business["id"], "https://solo.example/u/cy")
    return business


@pytest.fixture
async def live(database_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    """A real fedi-town under uvicorn on 127.0.0.1 (both backends); see tests/live.py."""
    from tests.live import live_instance

    async with live_instance(database_url, tmp_path) as instance:
        yield instance


@pytest.fixture
async def peer() -> AsyncIterator[Any]:
    """A remote test server on 127.0.0.1 with the actor ``alice``; see tests/peer.py."""
    from tests.peer import TestPeer

    async with TestPeer.running("alice", "bob") as remote:
        yield remote
