"""Every table's rows in a form either backend takes: read as one snapshot, loaded as one
transaction. The SQL of ``fedi-town backup``, ``restore`` and ``copy-database``.

    snapshot(store, write)       every data table, read inside one consistent snapshot while
                                 the instance serves; each row handed to ``write`` portable
    replace_all(store, ...)      empty the data tables and load rows, in one transaction,
                                 checking each table's count before committing
    counts(store)                rows per data table
    holds_businesses(store)      whether an instance already has a business (restore refuses)

A portable row is a dict of JSON values by column: integers (ids, BIGINT milliseconds),
booleans as ``true``/``false`` (SQLite stores 0/1), text (JSON columns stay text), ``null``.
``schema_migrations`` is not data: the target makes its own by migrating; nor are
``worker_heartbeats``, which say only which worker processes were alive.

The snapshot: on PostgreSQL one ``REPEATABLE READ READ ONLY`` transaction; on SQLite the
online backup API copies the file (a reader in WAL mode, so writers carry on) into a
temporary file that is then read at leisure. Tables load in the order the migrations create
them, so a row's references (``people`` → ``businesses``) are in place before it.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedi_town.store.db import Store
from fedi_town.store.migrations import MIGRATIONS

#: Rows per insert round while loading.
LOAD_CHUNK = 500

#: Not data: each database records its own migrations.
NOT_DATA = frozenset({"schema_migrations", "worker_heartbeats"})

Row = dict[str, Any]
#: (column name, kind): kind is "integer", "boolean", "real" or "text".
Column = tuple[str, str]


@dataclass(frozen=True)
class Snapshot:
    """What a snapshot read: the schema version, each table's columns and row count."""

    schema_version: int
    columns: dict[str, list[Column]]
    counts: dict[str, int]


class CountMismatch(Exception):
    """A table holds another number of rows after loading than the source had."""

    def __init__(self, table: str, expected: int, found: int) -> None:
        super().__init__(f"{table}: expected {expected} rows, found {found}")
        self.table, self.expected, self.found = table, expected, found


def creation_order() -> list[str]:
    """Tables in the order the migrations create them."""
    names: list[str] = []
    for _number, _name, statements in MIGRATIONS:
        for statement in statements:
            found = re.match(r"\s*CREATE TABLE (\w+)", statement)
            if found:
                names.append(found.group(1))
    return names


def ordered(tables: Iterable[str]) -> list[str]:
    """``tables`` in creation order; tables no migration makes come last, by name."""
    order = {name: i for i, name in enumerate(creation_order())}
    return sorted(tables, key=lambda t: (order.get(t, len(order)), t))


def kind_of(declared: str) -> str:
    """The portable kind of a column from its declared (SQLite) or data type (PostgreSQL)."""
    lowered = declared.lower()
    if "bool" in lowered:
        return "boolean"
    if "int" in lowered:
        return "integer"
    if any(word in lowered for word in ("real", "double", "float", "numeric")):
        return "real"
    return "text"


def _portable(row: Mapping[str, Any], columns: list[Column]) -> Row:
    """A database row as JSON values (SQLite's 0/1 booleans as booleans)."""
    out: Row = {}
    for name, kind in columns:
        value = row[name]
        if kind == "boolean" and value is not None:
            value = bool(value)
        out[name] = value
    return out


async def columns_of(store: Store) -> dict[str, list[Column]]:
    """Every data table of ``store`` and its columns, in creation order."""
    found: dict[str, list[Column]] = {}
    if store.is_sqlite:
        tables = await store.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        for entry in tables:
            name = str(entry["name"])
            info = await store.fetch_all(f"PRAGMA table_info({name})")
            found[name] = [(str(c["name"]), kind_of(str(c["type"]))) for c in info]
    else:
        rows = await store.fetch_all(
            """SELECT c.table_name, c.column_name, c.data_type
            FROM information_schema.columns c
            JOIN information_schema.tables t
              ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
            ORDER BY c.table_name, c.ordinal_position"""
        )
        for row in rows:
            table = str(row["table_name"])
            found.setdefault(table, []).append(
                (str(row["column_name"]), kind_of(str(row["data_type"])))
            )
    return {t: found[t] for t in ordered(found) if t not in NOT_DATA}


async def counts(store: Store) -> dict[str, int]:
    """Rows per data table of ``store``, in creation order."""
    result: dict[str, int] = {}
    for table in await columns_of(store):
        # table: a name from the database's own catalogue
        result[table] = int(await store.fetch_val(f"SELECT COUNT(*) FROM {table}") or 0)  # noqa: S608
    return result


async def holds_businesses(store: Store) -> bool:
    """Whether ``store`` has any business (live or deleted): a restore would mix two."""
    return await store.fetch_val("SELECT 1 FROM businesses LIMIT 1") is not None


async def snapshot(store: Store, write: Callable[[str, Row], None]) -> Snapshot:
    """Read every data table of ``store`` as one consistent snapshot, while it serves.

    Each row goes to ``write(table, row)`` as it is read (tables in creation order), so a
    large table is never held in memory.
    """
    if store.is_sqlite:
        if store.path is None:
            raise ValueError("an in-memory SQLite database has no file to back up")
        source = store.path
        return await asyncio.to_thread(_sqlite_snapshot, source, write)
    return await _pg_snapshot(store, write)


def _sqlite_snapshot(source: Path, write: Callable[[str, Row], None]) -> Snapshot:
    with tempfile.TemporaryDirectory(prefix="fedi-town-snapshot-") as folder:
        copy_path = Path(folder) / "snapshot.sqlite3"
        live = sqlite3.connect(source, timeout=30)
        copy = sqlite3.connect(copy_path)
        try:
            live.backup(copy)  # one step: a consistent copy of the committed state
        finally:
            live.close()
        try:
            copy.row_factory = sqlite3.Row
            # Text SQLite holds that is not UTF-8 (see Store.fetch_all_checked) would stop
            # the whole backup; such a row is unreadable already, so keep it with U+FFFD.
            copy.text_factory = lambda raw: raw.decode("utf-8", "replace")
            version = copy.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]
            names = [
                r[0]
                for r in copy.execute(
                    "SELECT name FROM sqlite_master "
                    "WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
            ]
            columns: dict[str, list[Column]] = {}
            tally: dict[str, int] = {}
            for table in ordered(n for n in names if n not in NOT_DATA):
                info = copy.execute(f"PRAGMA table_info({table})").fetchall()
                columns[table] = [(str(c["name"]), kind_of(str(c["type"]))) for c in info]
                tally[table] = 0
                for row in copy.execute(f"SELECT * FROM {table}"):  # noqa: S608 (catalogue's)
                    write(table, _portable(row, columns[table]))
                    tally[table] += 1
        finally:
            copy.close()
    return Snapshot(int(version or 0), columns, tally)


async def _pg_snapshot(store: Store, write: Callable[[str, Row], None]) -> Snapshot:
    # Its own pool connection, not Store.transaction: that one is READ COMMITTED, where each
    # statement sees its own moment; REPEATABLE READ sees the one moment of the first read.
    async with store._pool().acquire() as raw:
        async with raw.transaction(isolation="repeatable_read", readonly=True):
            version = await raw.fetchval("SELECT MAX(version) FROM schema_migrations")
            columns = await _pg_columns(raw)
            tally: dict[str, int] = {}
            for table, cols in columns.items():
                tally[table] = 0
                query = f"SELECT * FROM {table}"  # noqa: S608 (a name from the catalogue)
                async for record in raw.cursor(query, prefetch=LOAD_CHUNK):
                    write(table, _portable(record, cols))
                    tally[table] += 1
    return Snapshot(int(version or 0), columns, tally)


async def _pg_columns(raw: Any) -> dict[str, list[Column]]:
    rows = await raw.fetch(
        """SELECT c.table_name, c.column_name, c.data_type
        FROM information_schema.columns c
        JOIN information_schema.tables t
          ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
        ORDER BY c.table_name, c.ordinal_position"""
    )
    found: dict[str, list[Column]] = {}
    for row in rows:
        found.setdefault(row["table_name"], []).append(
            (row["column_name"], kind_of(row["data_type"]))
        )
    return {t: found[t] for t in ordered(found) if t not in NOT_DATA}


async def replace_all(
    store: Store,
    columns: Mapping[str, list[Column]],
    rows_of: Callable[[str], Iterator[Row]],
    expected: Mapping[str, int],
    progress: Callable[[str, int], None] = lambda table, n: None,
) -> dict[str, int]:
    """Empty every data table of ``store`` and load ``rows_of(table)`` for each table of
    ``columns``, all in one transaction; the counts found, each checked against
    ``expected`` before the commit (``CountMismatch`` rolls everything back).

    A column the target lacks is a ``ValueError`` before anything is written; a column
    the source lacks (added by a later migration) takes its default. ``progress(table,
    rows)`` hears of each chunk loaded, then of each table's count found.
    """
    target = await columns_of(store)
    for table, cols in columns.items():
        have = {name for name, _kind in target.get(table, [])}
        missing = [name for name, _kind in cols if name not in have]
        if table not in target or missing:
            raise ValueError(f"the database has no {table}.{(missing or ['*'])[0]}")
    # Every name below is now one the target's own catalogue holds (the archive's names
    # are never trusted into SQL unchecked).
    found: dict[str, int] = {}
    async with store.transaction():
        for table in reversed(list(target)):
            await store.execute(f"DELETE FROM {table}")  # noqa: S608
        for table in ordered(columns):
            names = [name for name, _kind in columns[table]]
            sql = (
                f"INSERT INTO {table} ({', '.join(names)}) "  # noqa: S608
                f"VALUES ({', '.join(':' + n for n in names)})"
            )
            chunk: list[Row] = []
            loaded = 0
            for row in rows_of(table):
                chunk.append(row)
                if len(chunk) >= LOAD_CHUNK:
                    await store.execute_many(sql, chunk)
                    loaded += len(chunk)
                    progress(table, loaded)
                    chunk = []
            if chunk:
                await store.execute_many(sql, chunk)
            found[table] = int(await store.fetch_val(f"SELECT COUNT(*) FROM {table}") or 0)  # noqa: S608
            if found[table] != expected.get(table, 0):
                raise CountMismatch(table, expected.get(table, 0), found[table])
            progress(table, found[table])
    return found
