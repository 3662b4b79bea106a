"""A start that cannot succeed exits at once, non-zero, with one line naming the cause, so a
service manager (systemd ``Restart=on-failure``) sees it instead of a silent process."""

from __future__ import annotations

import socket
import sqlite3

from tests.faults.conftest import (
    fill,
    free_port,
    remount,
    run_serve_until_exit,
    serve_env,
    small_filesystem,
)
from tests.reliability import record

#: A failed start must be over well within this (it takes ~1-2 s; the bound is generous).
PROMPTLY_S = 20.0


def _migrated_database(path) -> None:
    import asyncio

    from fedi_town.store.db import Store
    from fedi_town.store.migrations import migrate

    async def run() -> None:
        store = Store(f"sqlite:///{path}")
        await store.connect()
        try:
            await migrate(store)
        finally:
            await store.disconnect()

    asyncio.run(run())


def test_a_start_on_a_busy_port_exits_before_touching_the_database(tmp_path):
    # Given another program listening on the port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        database = tmp_path / "town.sqlite3"
        env = serve_env(f"sqlite:///{database}", tmp_path, port)
        # When fedi-town serve starts
        code, output, took = run_serve_until_exit(env, timeout=PROMPTLY_S)
    record("faults", "start on a busy port", "exited" if code else "hung", seconds=round(took, 1))
    # Then it exits non-zero at once, saying why, without creating the database
    assert code not in (None, 0), output
    assert f"cannot start: cannot listen on 127.0.0.1:{port}" in output
    assert not database.exists()


def test_a_start_on_a_read_only_database_exits_promptly_naming_the_cause(tmp_path):
    with small_filesystem() as where:
        # Given a migrated database on a file system that is now read-only
        _migrated_database(where / "town.sqlite3")
        remount(where, "ro")
        env = serve_env(f"sqlite:///{where / 'town.sqlite3'}", tmp_path, free_port())
        # When fedi-town serve starts
        code, output, took = run_serve_until_exit(env, timeout=PROMPTLY_S)
        remount(where, "rw")
    record("faults", "start on a read-only database", "exited" if code else "hung",
           seconds=round(took, 1))  # fmt: skip
    # Then it exits non-zero with one line naming the cause
    assert code not in (None, 0), output
    line = next(line for line in output.splitlines() if line.startswith("cannot start:"))
    assert "read-only" in line or "readonly" in line, line


def test_a_start_on_a_full_disk_exits_promptly_naming_the_cause(tmp_path):
    with small_filesystem() as where:
        # Given a file system with no space left and no database yet
        fill(where)
        env = serve_env(f"sqlite:///{where / 'town.sqlite3'}", tmp_path, free_port())
        # When fedi-town serve starts
        code, output, took = run_serve_until_exit(env, timeout=PROMPTLY_S)
    record("faults", "start on a full disk", "exited" if code else "hung", seconds=round(took, 1))
    # Then it exits non-zero with one line naming the cause
    assert code not in (None, 0), output
    line = next(line for line in output.splitlines() if line.startswith("cannot start:"))
    assert "full" in line, line


def test_a_database_file_that_is_not_a_database_stops_the_start(tmp_path):
    # Given a database path holding something else
    database = tmp_path / "town.sqlite3"
    database.write_bytes(b"not a database " * 100)
    env = serve_env(f"sqlite:///{database}", tmp_path, free_port())
    # When fedi-town serve starts
    code, output, took = run_serve_until_exit(env, timeout=PROMPTLY_S)
    record("faults", "start on a file that is not a database", "exited" if code else "hung",
           seconds=round(took, 1))  # fmt: skip
    # Then it exits non-zero with the driver's reason, and left the file as it was
    assert code not in (None, 0), output
    assert "cannot start: DatabaseError: file is not a database" in output, output
    assert database.read_bytes().startswith(b"not a database")
    assert sqlite3.sqlite_version  # the reason is SQLite's own words


def test_a_start_with_postgresql_unreachable_exits_promptly_naming_the_cause(tmp_path):
    # Given a PostgreSQL URL where nothing listens
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    env = serve_env(url, tmp_path, free_port())
    # When fedi-town serve starts
    code, output, took = run_serve_until_exit(env, timeout=PROMPTLY_S)
    record("faults", "start with PostgreSQL unreachable", "exited" if code else "hung",
           seconds=round(took, 1))  # fmt: skip
    # Then it exits non-zero with one line naming the cause
    assert code not in (None, 0), output
    line = next(line for line in output.splitlines() if line.startswith("cannot start:"))
    assert "FEDI_TOWN_DATABASE_URL" in line and "ConnectionRefusedError" in line, line
    assert "Traceback" not in output
