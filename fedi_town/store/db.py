"""The database handle: one ``Store`` wraps a ``databases.Database`` for SQLite or PostgreSQL.

SQL lives only under ``fedi_town/store``. Queries are plain SQL with ``:named`` parameters,
written in the common subset of SQLite 3.35+ and PostgreSQL 13+ (``ON CONFLICT``,
``RETURNING``). Times are BIGINT milliseconds since the epoch so comparisons and ordering
behave the same on both backends; ids are BIGINT snowflakes made in Python (``new_id``),
sortable by time, so no backend-specific autoincrement is needed.

SQLite allows one writer at a time, and a deferred transaction that reads and then writes can
fail at once with "database is locked" when another connection wrote in between. So on SQLite
every write transaction of this process goes through one asyncio lock; readers run freely (WAL).
On PostgreSQL transactions run concurrently and rely on row locks.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs, urlsplit

import databases

log = logging.getLogger(__name__)

Row = Mapping[str, Any]
_T = TypeVar("_T")

#: Held read connections on SQLite (each is one aiosqlite thread).
SQLITE_READERS = 2

#: PostgreSQL connections the pool keeps open (see Store.__init__).
PG_MIN_CONNECTIONS = 4

#: Rows per ``execute_many`` round (see Store.execute_many).
EXECUTE_MANY_CHUNK = 500


def now_ms() -> int:
    """Current time in epoch milliseconds (the storage format of every timestamp)."""
    return time.time_ns() // 1_000_000


_id_lock = threading.Lock()
_last_id = 0


def new_id(at_ms: int | None = None) -> int:
    """A 63-bit id: 42 bits of milliseconds, 21 random-then-increasing bits.

    Sortable by creation time (pagination by id), unique within a process, and unlikely to
    collide across processes (21 random bits per millisecond).
    """
    global _last_id
    ms = now_ms() if at_ms is None else at_ms
    candidate = (ms << 21) | secrets.randbits(20)
    with _id_lock:
        if candidate <= _last_id:
            candidate = _last_id + 1
        _last_id = candidate
    return candidate


class Store:
    """A connected database and the dialect facts the query modules need."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        options: dict[str, Any] = {}
        self.schema: str | None = None
        if self.dialect == "sqlite":
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # aiosqlite passes this to sqlite3.connect: wait up to 30 s for a lock.
            options["timeout"] = 30
        else:
            # ?schema=name puts every table in that PostgreSQL schema (tests use one each).
            query = parse_qs(urlsplit(url).query)
            if "schema" in query:
                schema = query["schema"][0]
                if not schema.isidentifier():
                    raise ValueError("the schema in the database URL must be an identifier")
                options["server_settings"] = {"search_path": schema}
                self.schema = schema
            # A few connections stay open: a burst (inbox group commits, key reads, the
            # worker's claims) would otherwise open each one first, ~5 ms apiece, on the
            # very requests that are waiting. ``?min_size=N`` in the URL overrides it.
            if "min_size" not in query:
                most = int(query.get("max_size", [PG_MIN_CONNECTIONS])[0])
                options["min_size"] = min(PG_MIN_CONNECTIONS, most)
            options["reset"] = _keep_session
        self.db = databases.Database(url, **options)
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None
        # SQLite: connections held for the life of the process (see _conn).
        self._writer: databases.core.Connection | None = None
        self._readers: list[databases.core.Connection] = []
        self._next_reader = 0
        self._savepoints = 0
        self._memory: dict[str, Any] = {}
        self._in_tx: contextvars.ContextVar[bool] = contextvars.ContextVar(
            f"store_tx_{id(self)}", default=False
        )

    def memory(self, name: str, make: Callable[[], _T]) -> _T:
        """This process's in-memory state about this database, by ``name``, made by ``make``
        on first use: the caches the store modules keep (block list, inbox owners, recent
        actors) live as long as the Store they describe, one set per database."""
        found = self._memory.get(name)
        if found is None:
            found = self._memory[name] = make()
        return cast(_T, found)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    async def connect(self) -> None:
        await self.db.connect()
        if self.is_sqlite:
            # Outside a held connection, databases opens a new aiosqlite connection (and
            # thread) for every query, about 1 ms each. Hold one writer and a couple of
            # readers instead: readers see committed data (WAL), the writer does every write.
            backend = self.db._backend
            self._writer = databases.core.Connection(self.db, backend)
            await self._writer.__aenter__()
            for _ in range(SQLITE_READERS):
                reader = databases.core.Connection(self.db, backend)
                await reader.__aenter__()
                self._readers.append(reader)
            for connection in [self._writer, *self._readers]:
                connection.raw_connection.row_factory = _dict_row

    async def disconnect(self) -> None:
        for connection in [*self._readers, *([self._writer] if self._writer else [])]:
            await connection.__aexit__()
        self._readers.clear()
        self._writer = None
        try:
            await asyncio.wait_for(asyncio.shield(self.db.disconnect()), timeout=10)
        except TimeoutError:
            # A connection some cancelled task never gave back: do not hang the shutdown.
            pool = getattr(self.db._backend, "_pool", None)
            if pool is not None:
                log.warning("database pool did not close in 10 s; terminating it")
                pool.terminate()
                self.db._backend._pool = None
            self.db.is_connected = False

    def _conn(self) -> databases.core.Connection | databases.Database:
        """Where a query runs: on SQLite the writer inside a transaction, else a reader."""
        if not self.is_sqlite:
            return self.db
        if self._in_tx.get():
            assert self._writer is not None
            return self._writer
        if not self._readers:
            raise RuntimeError("Store is not connected")
        self._next_reader = (self._next_reader + 1) % len(self._readers)
        return self._readers[self._next_reader]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """A write transaction: all or nothing. Serialised per process on SQLite."""
        if not self.is_sqlite:
            async with self.db.transaction():
                yield
            return
        assert self._write_lock is not None and self._writer is not None
        writer = self._writer.raw_connection
        if self._in_tx.get():  # nested: a savepoint inside the open transaction
            self._savepoints += 1
            name = f"fedi_town_sp{self._savepoints}"
            await writer.execute_fetchall(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                await asyncio.shield(writer.execute_fetchall(f"ROLLBACK TO {name}"))
                await asyncio.shield(writer.execute_fetchall(f"RELEASE {name}"))
                raise
            await writer.execute_fetchall(f"RELEASE {name}")
            return
        # BEGIN, COMMIT and ROLLBACK go straight to the driver, one thread hop each
        # (databases' Transaction takes three per statement: execute and two cursor
        # closes; under load each hop waits a full turn of the event loop). IMMEDIATE takes
        # the write lock at once, so another process's writer makes this wait (busy
        # timeout) instead of failing halfway.
        async with self._write_lock:
            token = self._in_tx.set(True)
            try:
                await writer.execute_fetchall("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    await asyncio.shield(writer.execute_fetchall("ROLLBACK"))
                    raise
                await writer.execute_fetchall("COMMIT")
            finally:
                self._in_tx.reset(token)

    async def write(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Row]:
        """Run one writing statement that commits on its own; its ``RETURNING`` rows.

        A single statement is atomic by itself, so outside a transaction it needs no
        BEGIN/COMMIT: on SQLite it runs on the writer (under the write lock) in autocommit,
        one thread hop and one fsync; on PostgreSQL it is one round trip. Inside a
        transaction it is part of it.
        """
        if self.is_sqlite and not self._in_tx.get():
            assert self._write_lock is not None and self._writer is not None
            async with self._write_lock:
                rows = await self._writer.raw_connection.execute_fetchall(sql, dict(values or {}))
            return list(rows)
        return await self._run("fetch_all", sql, values)

    async def write_count(self, sql: str, values: Mapping[str, Any] | None = None) -> int:
        """Run one writing statement (as ``write``); how many rows it inserted, updated or
        deleted itself (not counting what triggers did; the store defines none).

        For a batch whose outcome is "all rows, as usual": ``RETURNING`` makes SQLite's
        driver step once per returned row, giving up and taking back the GIL each time,
        which cost the inbox's group commit a fifth of its CPU (docs/performance.md).
        """
        if self.is_sqlite:
            if self._in_tx.get():  # this task holds the write lock: nothing else writes here
                return await _count_changes(self._raw_sqlite(), sql, values)
            assert self._write_lock is not None and self._writer is not None
            async with self._write_lock:
                return await _count_changes(self._writer.raw_connection, sql, values)
        numbered, names = numbered_sql(sql)
        params = dict(values or {})
        async with self.db.connection() as connection:
            status = await connection.raw_connection.execute(
                numbered, *[params[name] for name in names]
            )
        # asyncpg's command tag: "INSERT 0 12", "UPDATE 3", "DELETE 0"
        return int(str(status).rsplit(" ", 1)[-1])

    async def fetch_one(self, sql: str, values: Mapping[str, Any] | None = None) -> Row | None:
        rows = await self._run("fetch_one", sql, values)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Row]:
        return await self._run("fetch_all", sql, values)

    async def fetch_val(self, sql: str, values: Mapping[str, Any] | None = None) -> Any:
        rows = await self._run("fetch_one", sql, values)
        return next(iter(rows[0].values())) if rows and rows[0] else None

    async def execute(self, sql: str, values: Mapping[str, Any] | None = None) -> None:
        """Run one statement (see ``write``: outside a transaction it commits on its own)."""
        if self.is_sqlite:
            await self.write(sql, values)
        else:
            await self._run("execute", sql, values)

    async def execute_many(self, sql: str, values: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement for many rows, in one transaction.

        The driver's own ``executemany`` runs the prepared statement for every row in one
        call (one thread hop on SQLite, one pipelined round trip on PostgreSQL). Chunks of
        ``EXECUTE_MANY_CHUNK`` bound the memory a 100,000-row enqueue holds at once.
        """
        if not values:
            return
        async with self.transaction():  # all chunks or none
            for start in range(0, len(values), EXECUTE_MANY_CHUNK):
                chunk = values[start : start + EXECUTE_MANY_CHUNK]
                if self.is_sqlite:
                    writer = self._raw_sqlite()
                    await writer.executemany(sql, [dict(v) for v in chunk])
                else:
                    numbered, names = numbered_sql(sql)
                    async with self.db.connection() as connection:
                        await connection.raw_connection.executemany(
                            numbered, [[v[name] for name in names] for v in chunk]
                        )

    def _raw_sqlite(self) -> Any:
        """The aiosqlite connection a SQLite query runs on (see ``_conn``)."""
        connection = self._conn()
        assert isinstance(connection, databases.core.Connection)
        return connection.raw_connection

    async def _run(self, kind: str, sql: str, values: Mapping[str, Any] | None) -> list[Row]:
        """Run ``sql`` on the driver directly; rows as dicts (none for ``execute``).

        ``databases`` turns every SQL string into a SQLAlchemy ``text()`` clause, binds and
        compiles it on each call: 10-22% of the server's samples in every benchmark profile
        (docs/performance.md). The SQL here is already in the drivers' terms: sqlite3 takes
        ``:named`` parameters as they are, and asyncpg needs them renumbered to ``$n``, which
        ``numbered_sql`` does once per distinct statement. Connections and transactions stay
        ``databases``' (held connections on SQLite, the task's pool connection on PostgreSQL).
        """
        params = dict(values) if values else {}
        if self.is_sqlite:
            raw = self._raw_sqlite()
            rows = await raw.execute_fetchall(sql, params)
            return list(rows) if kind != "execute" else []
        numbered, names = numbered_sql(sql)
        try:
            args = [params[name] for name in names]
        except KeyError as missing:
            raise ValueError(f"no value for SQL parameter {missing}") from None
        async with self.db.connection() as connection:
            raw = connection.raw_connection
            if kind == "execute":
                await raw.execute(numbered, *args) if args else await raw.execute(numbered)
                return []
            if kind == "fetch_one":
                record = await raw.fetchrow(numbered, *args)
                return [dict(record.items())] if record is not None else []
            return [dict(r.items()) for r in await raw.fetch(numbered, *args)]


async def _count_changes(writer: Any, sql: str, values: Mapping[str, Any] | None) -> int:
    """Run ``sql`` on the SQLite ``writer`` (aiosqlite, write lock held by the caller); the
    rows it changed, from the connection's running total (no rows to step through)."""
    before = writer.total_changes
    await writer.execute_fetchall(sql, dict(values or {}))
    return int(writer.total_changes - before)


async def _keep_session(connection: Any) -> None:
    """asyncpg pool ``reset``: nothing beyond the rollback asyncpg always does.

    asyncpg's default runs ``RESET ALL; CLOSE ALL; UNLISTEN *; pg_advisory_unlock_all()`` on
    every release, one more round trip per query outside a transaction (14% of the samples
    in the inbox profile). The store changes no session state: no LISTEN, no session
    settings (``search_path`` is a startup setting), no cursors, only transaction-scoped
    advisory locks. An open transaction is still rolled back by asyncpg before this runs.
    """


# A quoted string, a quoted identifier, a ``::`` cast, or a ``:name`` parameter.
_SQL_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|::|:([A-Za-z_][A-Za-z0-9_]*)")


@functools.lru_cache(maxsize=4096)
def numbered_sql(sql: str) -> tuple[str, tuple[str, ...]]:
    """``sql`` with ``:name`` parameters as PostgreSQL's ``$1 … $n``, and the names in order.

    A name used twice gets one number. Quoted strings, quoted identifiers and ``::`` casts
    are left alone. Written here because asyncpg only takes numbered parameters and the
    store's SQL is shared with SQLite, which takes the named form.
    """
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _SQL_TOKENS.sub(number, sql), tuple(names)


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    """sqlite3 row factory: rows as dicts, made in the driver's thread."""
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}
