"""Which database failures mean "the database cannot take this now", not "this request is bad".

A write that fails because the disk is full, the database file is read-only, or the server
went away (restart, failover) is not the client's fault and will work again by itself once
the cause is gone. The store turns such a failure into ``errors.ServiceUnavailable`` (503 with
``Retry-After``); the worker's loops back off and try again. Anything else keeps its class.

    SQLite (primary result code)   SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR, SQLITE_CANTOPEN,
                                   SQLITE_BUSY and SQLITE_LOCKED (another process held the lock
                                   past the busy timeout)
    PostgreSQL (SQLSTATE class)    53 insufficient resources (disk full, out of memory, too
                                   many connections), 57P admin/crash shutdown, cannot connect
                                   now, 08 connection exceptions, 25006 read-only transaction
    drivers                        a connection that is closed or was never made
"""

from __future__ import annotations

import errno
import os
import socket
import sqlite3
import sys
from pathlib import Path
from types import ModuleType

#: Seconds a client is asked to wait (``Retry-After``) while the database is unavailable.
RETRY_AFTER_S = 30

_SQLITE_CODES = {
    sqlite3.SQLITE_FULL: "full",
    sqlite3.SQLITE_READONLY: "read-only",
    sqlite3.SQLITE_IOERR: "failing to read or write its file",
    sqlite3.SQLITE_CANTOPEN: "unable to open its file",
    sqlite3.SQLITE_BUSY: "busy",
    sqlite3.SQLITE_LOCKED: "busy",
}


def unavailable_reason(exc: BaseException) -> str | None:
    """Why the database cannot serve now ("full", "read-only", "unreachable", ...), or None
    when ``exc`` is not such a failure."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is None:
            return None
        return _SQLITE_CODES.get(code & 0xFF)
    # asyncpg only when something imported it: an instance on SQLite never loads it (~4 MB),
    # and then none of its errors can exist.
    pg = sys.modules.get("asyncpg")
    if pg is not None:
        reason = _postgres_reason(pg, exc)
        if reason is not None:
            return reason
    if isinstance(exc, ConnectionError | TimeoutError):
        return "unreachable"
    if isinstance(exc, OSError) and exc.errno is not None:
        return "unreachable"  # connection refused, host unreachable, ...
    return None


_NETWORK_ERRNOS = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL, errno.ETIMEDOUT}


def cannot_connect(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure to reach or sign in to the database server (refused,
    no such host, timed out; PostgreSQL SQLSTATE 08 connection, 28 authorization, 3D000 no
    such database, 57P03 cannot connect now): what ``FEDI_TOWN_DATABASE_URL`` points at
    is wrong or down."""
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return True
    if type(exc) is OSError:  # asyncio's one error for every address it tried, or a route
        return exc.errno in _NETWORK_ERRNOS or str(exc).startswith("Multiple exceptions")
    pg = sys.modules.get("asyncpg")
    if pg is not None and isinstance(exc, pg.PostgresError):
        state = str(getattr(exc, "sqlstate", "") or "")
        return state.startswith(("08", "28")) or state in {"3D000", "57P03"}
    return False


def refuses_value(exc: BaseException) -> bool:
    """Whether ``exc`` is the database refusing a value (too big, out of range, not of its
    type): the same row fails the same way every time, so retrying it cannot help."""
    if isinstance(exc, sqlite3.DataError):  # "string or blob too big", out of range
        return True
    pg = sys.modules.get("asyncpg")
    if pg is not None and isinstance(exc, pg.PostgresError):
        # 22: data exception (out of range, bad text); 54: program limit exceeded (an
        # index row too large, too many columns)
        return str(getattr(exc, "sqlstate", "") or "").startswith(("22", "54"))
    return False


def _postgres_reason(pg: ModuleType, exc: BaseException) -> str | None:
    """``unavailable_reason`` for asyncpg's errors (``pg`` is the asyncpg module)."""
    if isinstance(exc, pg.PostgresError):
        state = str(getattr(exc, "sqlstate", "") or "")
        if state == "53100":
            return "full"
        if state == "25006":
            return "read-only"
        if state.startswith(("53", "57P", "08")):
            return "unreachable"
        return None
    if isinstance(exc, pg.exceptions.ConnectionDoesNotExistError):
        return "unreachable"
    if isinstance(exc, pg.exceptions.InternalClientError):
        return "unreachable"  # the server ended the session while the client was idle
    if isinstance(exc, pg.InterfaceError):
        # The client side of a connection in a state it cannot use: "connection is closed",
        # "pool is closed", "another operation is in progress" on a connection a restart
        # cut mid-query (seen once in the PostgreSQL restart fault test). The store drops
        # such a connection (``db._drop_if_broken``) and the pool opens a new one.
        return "unreachable"
    return None


def sqlite_file_problem(path: Path) -> str | None:
    """Why the SQLite database at ``path`` cannot be written, judged from its file system
    (read-only, full), or None. SQLite's own words for these are vaguer ("unable to open
    database file" when the -shm file cannot be made)."""
    where = path if path.exists() else path.parent
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        info = os.statvfs(where)
    except OSError:
        return None
    if info.f_flag & os.ST_RDONLY:
        return f"the database {path} is on a read-only file system"
    if path.exists() and not os.access(path, os.W_OK):
        return f"the database file {path} is read-only"
    free = info.f_bfree if os.geteuid() == 0 else info.f_bavail  # root may use the reserve
    if free == 0:
        return f"the file system of the database {path} is full"
    return None
