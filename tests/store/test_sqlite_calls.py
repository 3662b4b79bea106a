"""What the store runs in SQLite's driver thread, on a real connection to a real file."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from fedi_town.store import sqlite_calls


@pytest.fixture
def conn(tmp_path: Path):
    connection = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    connection.row_factory = sqlite_calls.dict_row
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    yield connection
    connection.close()


def test_rows_come_back_as_dicts_and_the_cursor_is_closed(conn):
    # Given a row
    conn.execute("INSERT INTO t (id, v) VALUES (1, 'rye')")
    # When it is read through fetchall
    rows = sqlite_calls.fetchall(conn, "SELECT id, v FROM t", {})
    # Then it is a dict, and nothing is left in progress on the connection
    assert rows == [{"id": 1, "v": "rye"}]
    assert not conn.in_transaction


def test_a_commit_that_fails_is_rolled_back_before_it_raises(conn):
    # Given a transaction holding a deferred constraint that the commit will break
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER "
        "REFERENCES t(id) DEFERRABLE INITIALLY DEFERRED)"
    )
    sqlite_calls.begin(conn)
    conn.execute("INSERT INTO child (id, parent) VALUES (1, 99)")
    # When it is committed
    with pytest.raises(sqlite3.IntegrityError):
        sqlite_calls.commit(conn)
    # Then the connection is out of the transaction and the row is gone
    assert not conn.in_transaction
    assert sqlite_calls.fetchall(conn, "SELECT COUNT(*) AS n FROM child", {}) == [{"n": 0}]


def test_a_transaction_left_open_is_rolled_back_before_an_autocommit_statement(conn):
    # Given a transaction nobody owns any more (a call cancelled between its steps)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO t (id, v) VALUES (1, 'left over')")
    # When a statement runs in autocommit
    sqlite_calls.autocommit(conn, "INSERT INTO t (id, v) VALUES (2, 'wanted')", {})
    # Then the stray write was undone and the new one kept
    assert sqlite_calls.fetchall(conn, "SELECT id FROM t", {}) == [{"id": 2}]


def test_count_is_the_number_of_rows_changed(conn):
    sqlite_calls.many(
        conn, "INSERT INTO t (id, v) VALUES (:id, 'x')", [{"id": i} for i in range(5)]
    )
    assert sqlite_calls.count(conn, "UPDATE t SET v = 'y' WHERE id < 3", {}) == 3


def test_a_savepoint_undone_keeps_the_rest_of_the_transaction(conn):
    sqlite_calls.begin(conn)
    conn.execute("INSERT INTO t (id, v) VALUES (1, 'kept')")
    conn.execute("SAVEPOINT s1")
    conn.execute("INSERT INTO t (id, v) VALUES (2, 'undone')")
    sqlite_calls.undo_savepoint(conn, "s1")
    sqlite_calls.commit(conn)
    assert sqlite_calls.fetchall(conn, "SELECT id FROM t", {}) == [{"id": 1}]


def test_text_that_is_not_utf8_is_read_leniently_and_flagged(conn):
    # Given a row whose text is not UTF-8 (only SQLite can store that)
    conn.execute("INSERT INTO t (id, v) VALUES (1, CAST(X'FF61' AS TEXT))")
    # When it is read leniently
    (row,) = sqlite_calls.lenient(conn, "SELECT v FROM t", {})
    # Then it comes back escaped and is known to be unreadable
    assert sqlite_calls.has_unreadable_text(row)
    assert not sqlite_calls.has_unreadable_text({"v": "rye"})


def test_a_new_database_file_and_its_folder_are_private(tmp_path):
    path = tmp_path / "new" / "town.db"
    sqlite_calls.private_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
