"""What the store runs in SQLite's driver thread, one connection at a time.

Each function takes the ``sqlite3.Connection`` itself and is handed to the connection's
thread whole (``Store`` calls them through aiosqlite's queue), so a statement's cursor is
closed in the thread that opened it and a failed COMMIT is rolled back before anything else
can run on the connection. Also here: how the database file is made private, and rows as
dicts.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)

Row = Mapping[str, Any]
T = TypeVar("T")


def fetchall(conn: sqlite3.Connection, sql: str, params: Any) -> list[Row]:
    cursor = conn.execute(sql, params)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def column(conn: sqlite3.Connection, sql: str, params: Any) -> list[Any]:
    """The first column of every row (plain tuples: no dict per row)."""
    cursor = conn.cursor()
    cursor.row_factory = None
    try:
        return [row[0] for row in cursor.execute(sql, params)]
    finally:
        cursor.close()


def end_stray_transaction(conn: sqlite3.Connection) -> None:
    """Roll back a transaction nobody owns: the write lock is held and no transaction of
    this store is open, so it was left by a call cancelled between its steps."""
    if conn.in_transaction:
        log.warning("rolling back a transaction left open on the SQLite writer")
        conn.execute("ROLLBACK")


def autocommit(conn: sqlite3.Connection, sql: str, params: Any) -> list[Row]:
    end_stray_transaction(conn)
    return fetchall(conn, sql, params)


def begin(conn: sqlite3.Connection) -> None:
    end_stray_transaction(conn)
    conn.execute("BEGIN IMMEDIATE")


def commit(conn: sqlite3.Connection) -> None:
    """COMMIT, or when it fails (disk full, a deferred constraint) ROLLBACK and raise."""
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def after(
    conn: sqlite3.Connection, statements: list[str], function: Callable[..., T], *args: Any
) -> T:
    """Run ``statements`` (savepoints the store deferred), then ``function(conn, *args)``:
    one trip to the connection's thread for both."""
    for statement in statements:
        conn.execute(statement)
    return function(conn, *args)


def chain(conn: sqlite3.Connection, steps: list[tuple[str, dict[str, Any]]]) -> list[list[Row]]:
    """Run the first statement and, when it returned rows, the others: each one's rows."""
    results = [fetchall(conn, *steps[0])]
    if results[0]:
        results.extend(fetchall(conn, sql, params) for sql, params in steps[1:])
    return results


def undo_savepoint(conn: sqlite3.Connection, name: str) -> None:
    conn.execute(f"ROLLBACK TO {name}")
    conn.execute(f"RELEASE {name}")


def count(conn: sqlite3.Connection, sql: str, params: Any, autocommit: bool = False) -> int:
    """Run ``sql``; the rows it changed, from the connection's running total (no rows to
    step through)."""
    if autocommit:
        end_stray_transaction(conn)
    before = conn.total_changes
    fetchall(conn, sql, params)
    return conn.total_changes - before


def many(conn: sqlite3.Connection, sql: str, rows: list[dict[str, Any]]) -> None:
    conn.executemany(sql, rows).close()


def escaped_text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def lenient(conn: sqlite3.Connection, sql: str, params: Any) -> list[Row]:
    """``fetchall`` with text that is not UTF-8 escaped instead of failing."""
    previous = conn.text_factory
    conn.text_factory = escaped_text
    try:
        return fetchall(conn, sql, params)
    finally:
        conn.text_factory = previous


_SURROGATE = re.compile("[\ud800-\udfff]")


def has_unreadable_text(row: Row) -> bool:
    """Whether a text value of ``row`` holds a lone surrogate (bytes that were not UTF-8).
    ASCII text (most of it: activity bodies escape the rest) is passed without the search."""
    return any(
        isinstance(value, str) and not value.isascii() and _SURROGATE.search(value)
        for value in row.values()
    )


def private_file(path: Path) -> None:
    """Create the database file 0600 (and its directory 0700 if missing); take group and
    other bits off an existing one and its -wal/-shm files. SQLite creates -wal and -shm
    with the database file's mode, so they end up private too."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        return
    except FileExistsError:
        pass
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            mode = name.stat().st_mode
            if mode & 0o077:
                name.chmod(mode & 0o700)
        except FileNotFoundError:
            continue
        except OSError as exc:  # not ours, or a read-only file system: leave it be
            log.warning("cannot make %s private: %s", name.name, exc.__class__.__name__)


def dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    """sqlite3 row factory: rows as dicts, made in the driver's thread."""
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}
