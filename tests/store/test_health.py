"""Which database failures are "try again later" (503) and which are not."""

from __future__ import annotations

import socket
import sqlite3

import asyncpg
import pytest

from fedi_town.store.health import cannot_connect, refuses_value, unavailable_reason


def _sqlite_error(code: int) -> sqlite3.Error:
    error = sqlite3.OperationalError("driver message")
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (_sqlite_error(sqlite3.SQLITE_FULL), "full"),
        (_sqlite_error(sqlite3.SQLITE_READONLY), "read-only"),
        (_sqlite_error(sqlite3.SQLITE_READONLY_DBMOVED), "read-only"),  # extended code
        (_sqlite_error(sqlite3.SQLITE_BUSY), "busy"),
        (_sqlite_error(sqlite3.SQLITE_CONSTRAINT), None),
        (sqlite3.OperationalError("no such table"), None),
        (asyncpg.exceptions.DiskFullError("no space"), "full"),
        (asyncpg.exceptions.ReadOnlySQLTransactionError("read only"), "read-only"),
        (asyncpg.exceptions.AdminShutdownError("terminating"), "unreachable"),
        (asyncpg.exceptions.CannotConnectNowError("starting up"), "unreachable"),
        (asyncpg.exceptions.ConnectionDoesNotExistError("lost"), "unreachable"),
        (asyncpg.exceptions.InternalClientError("another operation"), "unreachable"),
        (
            asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
            "unreachable",
        ),
        (asyncpg.InterfaceError("cannot call Connection.fetch(): released"), "unreachable"),
        (asyncpg.exceptions.UniqueViolationError("duplicate"), None),
        (ConnectionRefusedError(111, "refused"), "unreachable"),
        (ValueError("bad input"), None),
    ],
    ids=lambda value: value if isinstance(value, str) or value is None else type(value).__name__,
)
def test_unavailable_reason_sorts_failures_by_what_will_pass(error, reason):
    assert unavailable_reason(error) == reason


@pytest.mark.anyio
async def test_a_value_the_database_refuses_is_told_apart_from_a_passing_failure(store):
    # Given statements whose values the real database refuses, every time: too big for it,
    # and (PostgreSQL, which checks) out of its type's range
    if store.is_sqlite:
        refused = ["SELECT zeroblob(2000000000)"]
    else:
        refused = ["SELECT repeat('x', 2000000000)", "SELECT CAST(:big AS BIGINT) * 4"]
    for sql in refused:
        # When it runs
        with pytest.raises(Exception) as raised:
            await store.fetch_all(sql, {"big": 2**62} if ":big" in sql else None)
        # Then the worker can see that retrying it cannot help
        assert refuses_value(raised.value), sql
    assert not refuses_value(ConnectionRefusedError(111, "refused"))


@pytest.mark.parametrize(
    ("error", "names_the_url"),
    [
        (ConnectionRefusedError(111, "refused"), True),
        (socket.gaierror(-2, "Name or service not known"), True),
        (OSError("Multiple exceptions: [Errno 111] ..., [Errno 99] ..."), True),
        (TimeoutError(), True),
        (asyncpg.exceptions.InvalidCatalogNameError('database "x" does not exist'), True),
        (asyncpg.exceptions.InvalidPasswordError("password authentication failed"), True),
        (asyncpg.exceptions.CannotConnectNowError("starting up"), True),
        (asyncpg.exceptions.UniqueViolationError("duplicate"), False),
        (OSError(113, "No route to host"), True),
        (PermissionError(13, "Permission denied"), False),  # a SQLite file's folder
        (OSError(28, "No space left on device"), False),
        (_sqlite_error(sqlite3.SQLITE_CANTOPEN), False),
    ],
    ids=lambda value: value if isinstance(value, bool) else type(value).__name__,
)
def test_cannot_connect_tells_a_database_url_pointing_nowhere_from_other_failures(
    error, names_the_url
):
    assert cannot_connect(error) is names_the_url
