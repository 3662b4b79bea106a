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
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import databases

log = logging.getLogger(__name__)

Row = Mapping[str, Any]

#: Held read connections on SQLite (each is one aiosqlite thread).
SQLITE_READERS = 2

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
            options.setdefault("min_size", 1)
        self.db = databases.Database(url, **options)
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None
        # SQLite: connections held for the life of the process (see _conn).
        self._writer: databases.core.Connection | None = None
        self._readers: list[databases.core.Connection] = []
        self._next_reader = 0
        self._in_tx: contextvars.ContextVar[bool] = contextvars.ContextVar(
            f"store_tx_{id(self)}", default=False
        )

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
        if self._in_tx.get():  # nested: a savepoint inside the open transaction
            async with self._writer.transaction():
                yield
            return
        async with self._write_lock:
            token = self._in_tx.set(True)
            try:
                async with self._writer.transaction():
                    yield
            finally:
                self._in_tx.reset(token)

    async def fetch_one(self, sql: str, values: Mapping[str, Any] | None = None) -> Row | None:
        row = await self._conn().fetch_one(sql, dict(values or {}))
        return dict(row._mapping) if row is not None else None

    async def fetch_all(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Row]:
        rows = await self._conn().fetch_all(sql, dict(values or {}))
        return [dict(r._mapping) for r in rows]

    async def fetch_val(self, sql: str, values: Mapping[str, Any] | None = None) -> Any:
        return await self._conn().fetch_val(sql, dict(values or {}))

    async def execute(self, sql: str, values: Mapping[str, Any] | None = None) -> None:
        """Run one statement. On SQLite, outside a transaction, it takes the write lock."""
        if self.is_sqlite and not self._in_tx.get():
            async with self.transaction():
                await self._conn().execute(sql, dict(values or {}))
        else:
            await self._conn().execute(sql, dict(values or {}))

    async def execute_many(self, sql: str, values: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement for many rows, in chunks.

        ``databases`` compiles a SQLAlchemy clause for every row before running any, which
        cost +93 MB for a 10,000-follower fan-out; chunks of ``EXECUTE_MANY_CHUNK`` bound it.
        """
        if not values:
            return
        async with self.transaction():  # all chunks or none
            for start in range(0, len(values), EXECUTE_MANY_CHUNK):
                chunk = [dict(v) for v in values[start : start + EXECUTE_MANY_CHUNK]]
                await self._conn().execute_many(sql, chunk)
