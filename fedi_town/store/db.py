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

**Every transaction leaves its connection clean**, whatever happens inside it: an error, a
failed COMMIT (rolled back), a cancellation (the rollback is shielded), a row the driver cannot
decode (cursors are closed in the driver's thread, so no statement stays in progress to make
the next COMMIT fail). On PostgreSQL a connection is taken from the pool for one query or one
transaction and always given back: none is tied to a long-lived task, so after the server
restarts the pool replaces the dead ones by itself. A failure that means "the database cannot
take this now" (disk full, read-only, server gone; see ``health``) is raised as
``errors.ServiceUnavailable``, a 503 with ``Retry-After``.

**After-commit effects.** Code that changes what another part of the process keeps (a queue's
worker waiting for work, the read side's document cache) says so with ``after_commit(effect)``
inside its transaction; the effect reaches the subscribers (``on_commit``) only once the
outermost transaction has committed, and never when it rolls back (a savepoint that rolls back
drops its own effects). Outside a transaction it reaches them at once. Effects are plain
values (``store.effects``); a subscriber is a quick synchronous call that must not fail.

A SQLite database file is created readable by its owner only (0600; SQLite gives its -wal and
-shm files the same mode), in a directory made 0700 when the store creates it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import itertools
import logging
import re
import secrets
import threading
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs, urlsplit

import databases

from fedi_town.errors import ServiceUnavailable
from fedi_town.store import health, sqlite_calls

log = logging.getLogger(__name__)

Row = Mapping[str, Any]
_T = TypeVar("_T")
_E = TypeVar("_E")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Held read connections on SQLite (each is one aiosqlite thread).
SQLITE_READERS = 2

#: PostgreSQL connections the pool keeps open (see Store.__init__).
PG_MIN_CONNECTIONS = 4

#: Rows per ``execute_many`` round (see Store.execute_many).
EXECUTE_MANY_CHUNK = 500


def now_ms() -> int:
    """Current time in epoch milliseconds (the storage format of every timestamp)."""
    return time.time_ns() // 1_000_000


def epoch_ms(when: datetime) -> int:
    """``when`` (timezone-aware) in epoch milliseconds: a clock's reading as stored."""
    return (when - _EPOCH) // timedelta(milliseconds=1)


_id_lock = threading.Lock()
_last_id = 0


def new_id(at_ms: int | None = None) -> int:
    """A 63-bit id: 42 bits of milliseconds, 21 random-then-increasing bits.

    Sortable by creation time (pagination by id), unique within a process, and unlikely to
    collide across processes (21 random bits per millisecond).
    """
    global _last_id
    ms = now_ms() if at_ms is None else at_ms  # no time given: the real clock keeps ids unique
    candidate = (ms << 21) | secrets.randbits(20)
    with _id_lock:
        if candidate <= _last_id:
            candidate = _last_id + 1
        _last_id = candidate
    return candidate


@dataclass
class Unsaved:
    """What ran inside ``Store.without_savepoints``: statements sent, and whether a nested
    transaction failed after sending one (its writes cannot be undone alone)."""

    statements: int = 0
    spoiled: bool = False


class Store:
    """A connected database and the dialect facts the query modules need."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        options: dict[str, Any] = {}
        self.schema: str | None = None
        self.path: Path | None = None
        if self.dialect == "sqlite":
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                self.path = Path(path)
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
        #: SQLite: savepoint statements of the open transaction not sent yet (``_sqlite_hop``)
        self._deferred: list[str] = []
        self._memory: dict[str, Any] = {}
        self._in_tx: contextvars.ContextVar[bool] = contextvars.ContextVar(
            f"store_tx_{id(self)}", default=False
        )
        # PostgreSQL: the connection of the open transaction, and the task that opened it
        # (tasks it starts inherit the variable but take their own connection, as before).
        # With it, the savepoint statements not sent yet (``_pg_transaction``).
        self._pg_tx: contextvars.ContextVar[
            tuple[asyncio.Task[Any] | None, Any, list[str]] | None
        ] = contextvars.ContextVar(f"store_pg_tx_{id(self)}", default=None)
        # The effects the open transaction carries, run once it commits (see after_commit).
        self._effects: contextvars.ContextVar[list[object] | None] = contextvars.ContextVar(
            f"store_effects_{id(self)}", default=None
        )
        self._subscribers: dict[type[Any], list[Callable[[Any], None]]] = {}
        # Set inside ``without_savepoints``: nested transactions open no savepoint.
        self._unsaved: contextvars.ContextVar[Unsaved | None] = contextvars.ContextVar(
            f"store_unsaved_{id(self)}", default=None
        )

    def on_commit(self, kind: type[_E], subscriber: Callable[[_E], None]) -> Callable[[], None]:
        """Call ``subscriber`` with every ``kind`` effect once its transaction commits;
        returns the function that ends the subscription."""
        subscribers = self._subscribers.setdefault(kind, [])
        subscribers.append(subscriber)
        return lambda: subscribers.remove(subscriber) if subscriber in subscribers else None

    def after_commit(self, effect: object) -> None:
        """Run ``effect`` once the open transaction commits (dropped if it rolls back);
        with no transaction open, run it now."""
        pending = self._effects.get()
        if pending is not None and self._nested():
            pending.append(effect)
        else:
            self._run_effects([effect])

    def _nested(self) -> bool:
        """Whether a transaction opened now would be nested in one of this task's."""
        return self._in_tx.get() if self.is_sqlite else self._pg_held() is not None

    def _run_effects(self, effects: list[object]) -> None:
        for effect in effects:
            for subscriber in list(self._subscribers.get(type(effect), ())):
                try:
                    subscriber(effect)
                except Exception as exc:  # the commit stands; one listener's trouble is its own
                    log.error(
                        "after-commit %s failed: %s",
                        type(effect).__name__,
                        exc.__class__.__name__,
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
        """Open the database (the pool, or SQLite's held connections). On failure nothing
        stays open; a database that cannot serve raises ServiceUnavailable."""
        try:
            with _available():
                if self.path is not None:
                    sqlite_calls.private_file(self.path)
                await self._connect()
        except BaseException:
            await self.disconnect()
            raise

    async def _connect(self) -> None:
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
                connection.raw_connection.row_factory = sqlite_calls.dict_row

    async def disconnect(self) -> None:
        """Close everything ``connect`` opened (also after a partial or failed connect)."""
        for connection in [*self._readers, *([self._writer] if self._writer else [])]:
            try:
                await connection.__aexit__()
            except Exception as exc:  # a connection that broke: nothing left to close
                log.warning("closing a database connection failed: %s", exc.__class__.__name__)
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

    def _pool(self) -> Any:
        """The asyncpg pool (``databases`` keeps it; the store takes connections itself)."""
        pool = getattr(self.db._backend, "_pool", None)
        if pool is None:
            raise RuntimeError("Store is not connected")
        return pool

    def _pg_waiting(self) -> list[str]:
        """The savepoint statements of this task's open PostgreSQL transaction not sent yet."""
        held = self._pg_tx.get()
        assert held is not None
        return held[2]

    def _pg_held(self) -> Any | None:
        """This task's open PostgreSQL transaction connection, if any."""
        held = self._pg_tx.get()
        if held is None or held[0] is not asyncio.current_task():
            return None
        return held[1]

    @asynccontextmanager
    async def _pg(self) -> AsyncIterator[Any]:
        """A PostgreSQL connection for one query: the transaction's, or one from the pool
        given back right after (a dead one is dropped by the pool and replaced on demand)."""
        held = self._pg_held()
        if held is not None:
            self._sent()
            waiting = self._pg_waiting()
            if waiting:  # savepoint statements go first, in one round trip
                statements = "; ".join(waiting)
                waiting.clear()
                with _available():
                    await held.execute(statements)
            yield held
            return
        async with self._pool().acquire() as raw:
            try:
                yield raw
            except BaseException as exc:
                _drop_if_broken(raw, exc)
                raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """A write transaction: all or nothing. Serialised per process on SQLite.

        However it ends (an error, a failed COMMIT, a cancellation) the connection is left
        with no transaction open and no statement running. The effects it carries
        (``after_commit``) run after its COMMIT, and only then.
        """
        pending = self._effects.get()
        if pending is not None and self._nested():
            mark = len(pending)
            try:
                async with self._transaction():
                    yield
            except BaseException:
                del pending[mark:]  # the savepoint's own effects go with it
                raise
            return
        effects: list[object] = []
        token = self._effects.set(effects)
        try:
            async with self._transaction():
                yield
        finally:
            self._effects.reset(token)
        self._run_effects(effects)

    @contextmanager
    def without_savepoints(self) -> Iterator[Unsaved]:
        """Within this block (inside a transaction), a nested transaction opens no
        savepoint: nothing is sent for it, so it costs no round trip on PostgreSQL. It can
        no longer undo itself: if one that ran a statement fails, the returned ``Unsaved``
        says so (``spoiled``) and the caller must roll the whole transaction back (and may
        run it again with savepoints). A nested transaction that fails before running any
        statement spoils nothing, as a deferred savepoint never sent.

        For work that rarely fails, done in many small nested transactions (a group of
        inbox items, ``worker``): their savepoints were most of its round trips.
        """
        assert self._in_tx.get(), "without_savepoints needs an open transaction"
        state = Unsaved()
        token = self._unsaved.set(state)
        try:
            yield state
        finally:
            self._unsaved.reset(token)

    def _sent(self) -> None:
        """A statement goes to the database inside this task's transaction."""
        unsaved = self._unsaved.get()
        if unsaved is not None:
            unsaved.statements += 1

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        unsaved = self._unsaved.get()
        if unsaved is not None and self._nested():  # no savepoint (``without_savepoints``)
            before = unsaved.statements
            try:
                yield
            except BaseException:
                if unsaved.statements != before:
                    unsaved.spoiled = True
                raise
            return
        if not self.is_sqlite:
            async with self._pg_transaction():
                yield
            return
        assert self._write_lock is not None and self._writer is not None
        writer = self._writer.raw_connection
        if self._in_tx.get():  # nested: a savepoint inside the open transaction
            # SAVEPOINT and RELEASE wait for the next statement and go with it, one trip to
            # the driver's thread for both (``_sqlite_hop``); a savepoint inside which no
            # statement ran never reaches the database at all.
            self._savepoints += 1
            name = f"fedi_town_sp{self._savepoints}"
            opened = f"SAVEPOINT {name}"
            self._deferred.append(opened)
            try:
                yield
            except BaseException:
                if opened in self._deferred:  # never sent: nothing inside it to undo
                    del self._deferred[self._deferred.index(opened) :]
                else:  # what is still waiting lies inside it: undone with it
                    self._deferred.clear()
                    await _quietly(
                        _in_thread(writer, sqlite_calls.undo_savepoint, name),
                        "rolling back a savepoint",
                    )
                raise
            if opened in self._deferred:
                del self._deferred[self._deferred.index(opened) :]
            else:
                self._deferred.append(f"RELEASE {name}")
            return
        # BEGIN, COMMIT and ROLLBACK go straight to the driver, one thread hop each
        # (databases' Transaction takes three per statement: execute and two cursor
        # closes; under load each hop waits a full turn of the event loop). IMMEDIATE takes
        # the write lock at once, so another process's writer makes this wait (busy
        # timeout) instead of failing halfway.
        async with self._write_lock:
            token = self._in_tx.set(True)
            self._deferred.clear()
            try:
                try:
                    with _available():
                        await _in_thread(writer, sqlite_calls.begin)
                    yield
                except BaseException:
                    self._deferred.clear()
                    await _quietly(_in_thread(writer, sqlite_calls.rollback), "rollback")
                    raise
                self._deferred.clear()  # only RELEASEs can wait here: COMMIT ends them all
                with _available():
                    # Shielded: a COMMIT that already went to the driver's thread finishes
                    # (or rolls back) there even when this task is cancelled meanwhile.
                    await asyncio.shield(_in_thread(writer, sqlite_calls.commit))
            finally:
                self._in_tx.reset(token)

    @asynccontextmanager
    async def _pg_transaction(self) -> AsyncIterator[None]:
        """A PostgreSQL transaction on a connection of its own, always given back."""
        held = self._pg_held()
        if held is not None:  # nested: a savepoint
            # As on SQLite, SAVEPOINT and RELEASE wait for the next statement and go just
            # before it, all in one round trip (simple query protocol: several statements,
            # no parameters); a savepoint inside which no statement ran never reaches the
            # server, and COMMIT releases whatever is still waiting. An inbox item in a group
            # (its savepoint, the handler's inside it, both released) takes one trip for
            # them instead of four.
            waiting = self._pg_waiting()
            self._savepoints += 1
            name = f"fedi_town_sp{self._savepoints}"
            opened = f"SAVEPOINT {name}"
            waiting.append(opened)
            try:
                yield
            except BaseException:
                if opened in waiting:  # never sent: nothing inside it to undo
                    del waiting[waiting.index(opened) :]
                else:  # what still waits lies inside it: undone with it
                    waiting.clear()
                    await _quietly(
                        held.execute(f"ROLLBACK TO SAVEPOINT {name}"), "rolling back a savepoint"
                    )
                raise
            if opened in waiting:
                del waiting[waiting.index(opened) :]
            else:
                waiting.append(f"RELEASE SAVEPOINT {name}")
            return
        pool = self._pool()
        with _available():
            raw = await pool.acquire()
        try:
            token = self._pg_tx.set((asyncio.current_task(), raw, []))
            in_tx = self._in_tx.set(True)
            try:
                transaction = raw.transaction()
                with _available():
                    await transaction.start()
                try:
                    yield
                except BaseException as exc:
                    _drop_if_broken(raw, exc)
                    if not raw.is_closed():
                        await _quietly(transaction.rollback(), "rollback")
                    raise
                try:
                    with _available():
                        await transaction.commit()
                except BaseException as exc:
                    _drop_if_broken(raw, exc)
                    if not raw.is_closed() and raw.is_in_transaction():
                        await _quietly(raw.execute("ROLLBACK"), "rollback after a failed commit")
                    raise
            except BaseException as exc:
                _drop_if_broken(raw, exc)
                raise
            finally:
                self._in_tx.reset(in_tx)
                self._pg_tx.reset(token)
        finally:
            # asyncpg's release is shielded and rolls back whatever is still open.
            await _quietly(pool.release(raw), "giving a connection back")

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
                with _available():
                    rows = await _in_thread(
                        self._writer.raw_connection,
                        sqlite_calls.autocommit,
                        sql,
                        dict(values or {}),
                    )
            return list(rows)
        return await self._run("fetch_all", sql, values)

    async def write_count(self, sql: str, values: Mapping[str, Any] | None = None) -> int:
        """Run one writing statement (as ``write``); how many rows it inserted, updated or
        deleted itself (not counting what triggers did; the store defines none).

        For a batch whose outcome is "all rows, as usual": ``RETURNING`` makes SQLite's
        driver step once per returned row, giving up and taking back the GIL each time,
        which cost the inbox's group commit a fifth of its CPU (docs/performance.md).
        """
        params = dict(values or {})
        if self.is_sqlite:
            if self._in_tx.get():  # this task holds the write lock: nothing else writes here
                with _available():
                    return await self._sqlite_hop(sqlite_calls.count, sql, params)
            assert self._write_lock is not None and self._writer is not None
            async with self._write_lock:
                with _available():
                    return await _in_thread(
                        self._writer.raw_connection, sqlite_calls.count, sql, params, True
                    )
        numbered, names = numbered_sql(sql)
        with _available():
            async with self._pg() as raw:
                status = await raw.execute(numbered, *[params[name] for name in names])
        # asyncpg's command tag: "INSERT 0 12", "UPDATE 3", "DELETE 0"
        return int(str(status).rsplit(" ", 1)[-1])

    async def fetch_one(self, sql: str, values: Mapping[str, Any] | None = None) -> Row | None:
        rows = await self._run("fetch_one", sql, values)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Row]:
        return await self._run("fetch_all", sql, values)

    async def fetch_column(self, sql: str, values: Mapping[str, Any] | None = None) -> list[Any]:
        """The first column of every row, as a plain list: no dict per row, which for a
        100,000-row answer (a fan-out's audience) is ~18 MB less held at once."""
        params = dict(values) if values else {}
        if self.is_sqlite:
            with _available():
                found: list[Any] = await _in_thread(
                    self._raw_sqlite(), sqlite_calls.column, sql, params
                )
            return found
        numbered, names = numbered_sql(sql)
        try:
            args = [params[name] for name in names]
        except KeyError as missing:
            raise ValueError(f"no value for SQL parameter {missing}") from None
        with _available():
            async with self._pg() as raw:
                return [r[0] for r in await raw.fetch(numbered, *args)]

    async def fetch_val(self, sql: str, values: Mapping[str, Any] | None = None) -> Any:
        rows = await self._run("fetch_one", sql, values)
        return next(iter(rows[0].values())) if rows and rows[0] else None

    async def execute(self, sql: str, values: Mapping[str, Any] | None = None) -> None:
        """Run one statement (see ``write``: outside a transaction it commits on its own)."""
        if self.is_sqlite:
            await self.write(sql, values)
        else:
            await self._run("execute", sql, values)

    async def execute_many(self, sql: str, values: Iterable[Mapping[str, Any]]) -> None:
        """Run one statement for many rows, in one transaction.

        The driver's own ``executemany`` runs the prepared statement for every row in one
        call (one thread hop on SQLite, one pipelined round trip on PostgreSQL). ``values``
        is read ``EXECUTE_MANY_CHUNK`` rows at a time, so a generator (a 100,000-row enqueue)
        is never held in memory whole.
        """
        rows = iter(values)
        chunk = list(itertools.islice(rows, EXECUTE_MANY_CHUNK))
        if not chunk:
            return
        async with self.transaction():  # all chunks or none
            while chunk:
                with _available():
                    if self.is_sqlite:
                        plain = [dict(v) for v in chunk]
                        await self._sqlite_hop(sqlite_calls.many, sql, plain)
                    else:
                        numbered, names = numbered_sql(sql)
                        async with self._pg() as raw:
                            await raw.executemany(
                                numbered, [[v[name] for name in names] for v in chunk]
                            )
                chunk = list(itertools.islice(rows, EXECUTE_MANY_CHUNK))

    async def fetch_chain(self, steps: list[tuple[str, Mapping[str, Any]]]) -> list[list[Row]]:
        """SQLite: run the first statement and, when it returned rows, the others, in one
        transaction and one trip to the writer's thread; the rows of each statement run.

        For a write whose follow-ups only matter when it wrote (a notification and its
        stream event): one trip instead of one per statement (each trip wakes the driver's
        thread and then the event loop).
        PostgreSQL can say the same in one statement (a ``WITH ... INSERT`` chain), which
        SQLite cannot; callers there use that instead.
        """
        assert self.is_sqlite, "fetch_chain is SQLite's; PostgreSQL chains in one statement"
        plain = [(sql, dict(values)) for sql, values in steps]
        if not self._in_tx.get():
            async with self.transaction():
                return await self.fetch_chain(steps)
        with _available():
            return await self._sqlite_hop(sqlite_calls.chain, plain)

    async def _sqlite_hop(self, function: Callable[..., _T], *args: Any) -> _T:
        """Run ``function`` in the thread of the connection a SQLite query runs on; inside a
        transaction, the savepoint statements waiting to be sent go first, in the same trip."""
        raw = self._raw_sqlite()
        if self._in_tx.get():
            self._sent()
        if self._deferred and self._in_tx.get():
            waiting, self._deferred = self._deferred, []
            return await _in_thread(raw, sqlite_calls.after, waiting, function, *args)
        return await _in_thread(raw, function, *args)

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
            with _available():
                rows = await self._sqlite_hop(sqlite_calls.fetchall, sql, params)
            return rows if kind != "execute" else []
        numbered, names = numbered_sql(sql)
        try:
            args = [params[name] for name in names]
        except KeyError as missing:
            raise ValueError(f"no value for SQL parameter {missing}") from None
        with _available():
            async with self._pg() as raw:
                if kind == "execute":
                    await raw.execute(numbered, *args) if args else await raw.execute(numbered)
                    return []
                if kind == "fetch_one":
                    record = await raw.fetchrow(numbered, *args)
                    return [dict(record.items())] if record is not None else []
                return [dict(r.items()) for r in await raw.fetch(numbered, *args)]

    async def fetch_all_checked(
        self, sql: str, values: Mapping[str, Any] | None = None
    ) -> list[tuple[Row, bool]]:
        """Rows of ``sql``, each with whether all its text is readable, for readers that
        must not fail on one bad row (the queue's claim).

        Only SQLite can hold text that is not UTF-8 (a lone surrogate made by
        ``json_extract``, bytes cast to TEXT); read as usual it fails the whole query. Here
        such bytes come back escaped (``surrogateescape``) and the row marked unreadable.
        PostgreSQL checks encoding on the way in, so its rows are always readable.
        """
        if not self.is_sqlite:
            return [(row, True) for row in await self._run("fetch_all", sql, values)]
        params = dict(values) if values else {}
        with _available():
            rows = await self._sqlite_hop(sqlite_calls.lenient, sql, params)
        return [(row, not sqlite_calls.has_unreadable_text(row)) for row in rows]


@contextmanager
def _available() -> Iterator[None]:
    """Raise a failure that means "the database cannot take this now" (``health``) as
    ServiceUnavailable (503, Retry-After); let every other error through as it is."""
    try:
        yield
    except ServiceUnavailable:
        raise
    except Exception as exc:
        reason = health.unavailable_reason(exc)
        if reason is None:
            raise
        raise ServiceUnavailable(
            f"the database is {reason}; try again later", retry_after=health.RETRY_AFTER_S
        ) from exc


def _drop_if_broken(raw: Any, exc: BaseException) -> None:
    """Close a PostgreSQL connection that failed for want of the server (not for its SQL),
    so the pool opens a new one instead of handing the broken one out again."""
    cause = exc.__cause__ if isinstance(exc, ServiceUnavailable) else exc
    if cause is not None and health.unavailable_reason(cause) == "unreachable":
        # A connection the server closed may already be detached by asyncpg (its loss seen
        # first): then terminate() raises instead, and would hide the 503 on its way out.
        with suppress(Exception):
            raw.terminate()


async def _quietly(cleanup: Awaitable[Any], what: str) -> None:
    """Await a cleanup step (shielded from cancellation) while an error is on its way out;
    its own failure is logged, not raised over the error that caused it."""
    try:
        await asyncio.shield(cleanup)
    except Exception as exc:
        log.warning("%s failed: %s", what, exc.__class__.__name__)


# SQLite work runs in the aiosqlite connection's own thread, one function per hop. aiosqlite's
# helpers (execute_fetchall, executemany) leave the cursor open when fetching fails midway,
# e.g. on text that is not UTF-8: the statement stays in progress and the next COMMIT fails.
# These close every cursor they open, whatever happens.


async def _in_thread(raw: Any, function: Callable[..., _T], *args: Any) -> _T:
    """Run ``function(sqlite3_connection, *args)`` in the thread of aiosqlite connection
    ``raw`` (its queue, in order with everything else sent to that connection)."""
    return cast(_T, await raw._execute(function, raw._conn, *args))


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
