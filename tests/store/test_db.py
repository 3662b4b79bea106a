"""The Store: plain SQL with :named parameters, run on the driver, the same on both backends."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from fedi_town.store.db import new_id, numbered_sql

pytestmark = pytest.mark.anyio


def test_named_parameters_become_numbered_once_per_name():
    sql, names = numbered_sql("SELECT * FROM t WHERE a = :a AND b = :b OR a2 = :a")
    assert sql == "SELECT * FROM t WHERE a = $1 AND b = $2 OR a2 = $1"
    assert names == ("a", "b")


def test_quoted_text_and_casts_are_not_parameters():
    sql, names = numbered_sql(
        "SELECT ':not', \"col:x\", 'it''s :no', x::text FROM t WHERE y = :yes"
    )
    assert sql == "SELECT ':not', \"col:x\", 'it''s :no', x::text FROM t WHERE y = $1"
    assert names == ("yes",)


async def test_rows_come_back_as_dicts_with_column_names(store):
    # Given a row
    row_id = new_id()
    await store.execute(
        "INSERT INTO inbox_items (id, activity_uri, actor_uri, type, body, state, "
        "next_attempt_at, created_at) VALUES (:id, :uri, 'a', 'Like', '{}', 'pending', 5, 0)",
        {"id": row_id, "uri": "https://x.example/1"},
    )
    # When it is read back three ways
    one = await store.fetch_one(
        "SELECT id, activity_uri AS uri FROM inbox_items WHERE id = :id", {"id": row_id}
    )
    every = await store.fetch_all("SELECT id FROM inbox_items")
    value = await store.fetch_val(
        "SELECT next_attempt_at FROM inbox_items WHERE id = :id", {"id": row_id}
    )
    # Then each has the shape the query modules rely on
    assert one == {"id": row_id, "uri": "https://x.example/1"}
    assert every == [{"id": row_id}]
    assert value == 5
    assert await store.fetch_one("SELECT id FROM inbox_items WHERE id = :id", {"id": 1}) is None
    assert await store.fetch_val("SELECT id FROM inbox_items WHERE id = :id", {"id": 1}) is None


async def test_a_parameter_used_twice_binds_the_same_value(store):
    await store.execute(
        "INSERT INTO inbox_items (id, activity_uri, actor_uri, type, body, state, "
        "next_attempt_at, created_at) VALUES (:n, 'u', 'a', 'Like', '{}', 'pending', :n, 0)",
        {"n": 20},
    )
    found = await store.fetch_val(
        "SELECT id FROM inbox_items WHERE id = :n AND next_attempt_at = :n", {"n": 20}
    )
    assert found == 20


async def test_execute_many_writes_every_row_or_none(store):
    # Given 1,200 rows (more than one chunk), the last of which repeats an id
    rows = [{"id": n + 1, "uri": f"https://x.example/{n}"} for n in range(1_200)]
    rows.append({"id": 1, "uri": "https://x.example/again"})
    sql = (
        "INSERT INTO inbox_items (id, activity_uri, actor_uri, type, body, state, "
        "next_attempt_at, created_at) VALUES (:id, :uri, 'a', 'Like', '{}', 'pending', 0, 0)"
    )
    # When they are written in one call, it fails on the duplicate
    with pytest.raises(Exception):  # the drivers raise different classes
        await store.execute_many(sql, rows)
    # Then nothing of it was kept
    assert await store.fetch_val("SELECT COUNT(*) FROM inbox_items") == 0
    # And without the duplicate every row is written
    await store.execute_many(sql, rows[:-1])
    assert await store.fetch_val("SELECT COUNT(*) FROM inbox_items") == 1_200


async def test_execute_many_reads_a_generator_in_chunks(store):
    # Given 1,234 rows made one at a time by a generator (more than two chunks)
    made: list[int] = []

    def rows():
        for n in range(1_234):
            made.append(n)
            yield {"id": n + 1, "uri": f"https://x.example/{n}"}

    sql = (
        "INSERT INTO inbox_items (id, activity_uri, actor_uri, type, body, state, "
        "next_attempt_at, created_at) VALUES (:id, :uri, 'a', 'Like', '{}', 'pending', 0, 0)"
    )
    # When they are written in one call
    await store.execute_many(sql, rows())
    # Then every row is stored, each made once
    assert await store.fetch_val("SELECT COUNT(*) FROM inbox_items") == 1_234
    assert made == list(range(1_234))
    # And an empty generator writes nothing and does not fail
    await store.execute_many(sql, iter(()))


# SQLite's alone: PostgreSQL chains such writes in one WITH statement instead.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_chain_runs_its_follow_ups_only_when_the_first_statement_wrote(store):
    insert = (
        "INSERT INTO inbox_items (id, activity_uri, actor_uri, type, body, state, "
        "next_attempt_at, created_at) VALUES (:id, :uri, 'a', 'Like', '{}', 'pending', 0, 0) "
        "ON CONFLICT (activity_uri) DO NOTHING RETURNING id"
    )
    count = "SELECT COUNT(*) AS n FROM inbox_items"
    # Given / When a chain whose first statement writes (outside any transaction)
    first = await store.fetch_chain([(insert, {"id": 1, "uri": "u1"}), (count, {})])
    # Then every statement ran, and each one's rows come back
    assert first == [[{"id": 1}], [{"n": 1}]]
    # When the first writes nothing (a repeat), inside a transaction
    async with store.transaction():
        again = await store.fetch_chain([(insert, {"id": 2, "uri": "u1"}), (count, {})])
    # Then the follow-ups did not run
    assert again == [[]]
    # And a chain that fails is undone whole
    with pytest.raises(Exception):  # no such column
        await store.fetch_chain([(insert, {"id": 3, "uri": "u3"}), ("SELECT nothing", {})])
    assert await store.fetch_val("SELECT COUNT(*) FROM inbox_items") == 1


async def test_fetch_column_answers_the_first_column_as_a_list(store):
    # Given three rows
    await store.execute_many(
        "INSERT INTO inbox_items (id, activity_uri, actor_uri, type, body, state, "
        "next_attempt_at, created_at) VALUES (:id, :uri, 'a', 'Like', '{}', 'pending', 0, 0)",
        [{"id": n, "uri": f"https://x.example/{n}"} for n in (3, 1, 2)],
    )
    # When their uris are read as a column
    found = await store.fetch_column(
        "SELECT activity_uri, id FROM inbox_items WHERE id >= :least ORDER BY id", {"least": 2}
    )
    # Then the first column comes back, plain, in order
    assert found == ["https://x.example/2", "https://x.example/3"]
    # And an empty answer is an empty list
    assert await store.fetch_column("SELECT id FROM inbox_items WHERE id > 99") == []


async def test_a_failed_transaction_leaves_nothing_and_the_store_usable(store):
    sql = (
        "INSERT INTO inbox_items (id, activity_uri, actor_uri, type, body, state, "
        "next_attempt_at, created_at) VALUES (:id, :uri, 'a', 'Like', '{}', 'pending', 0, 0)"
    )
    with pytest.raises(RuntimeError):
        async with store.transaction():
            await store.execute(sql, {"id": 1, "uri": "https://x.example/1"})
            raise RuntimeError("boom")
    assert await store.fetch_val("SELECT COUNT(*) FROM inbox_items") == 0
    await store.execute(sql, {"id": 2, "uri": "https://x.example/2"})
    assert await store.fetch_val("SELECT COUNT(*) FROM inbox_items") == 1


async def test_a_missing_parameter_is_an_error_not_a_null(store):
    with pytest.raises(Exception):  # sqlite3 and the store differ
        await store.fetch_val("SELECT :absent", {})


async def test_concurrent_reads_and_writes_do_not_mix_up_results(store):
    sql = (
        "INSERT INTO inbox_items (id, activity_uri, actor_uri, type, body, state, "
        "next_attempt_at, created_at) VALUES (:id, :uri, 'a', 'Like', '{}', 'pending', 0, 0)"
    )

    async def write_then_read(n: int) -> int:
        await store.execute(sql, {"id": n + 1, "uri": f"https://x.example/{n}"})
        return int(
            await store.fetch_val(
                "SELECT id FROM inbox_items WHERE activity_uri = :u",
                {"u": f"https://x.example/{n}"},
            )
        )

    results = await asyncio.gather(*(write_then_read(n) for n in range(50)))
    assert results == [n + 1 for n in range(50)]


INSERT = (
    "INSERT INTO inbox_items (id, activity_uri, actor_uri, type, body, state, "
    "next_attempt_at, created_at) VALUES (:id, :uri, 'a', 'Like', '{}', 'pending', 0, 0)"
)


async def test_write_commits_one_statement_and_returns_its_rows(store):
    rows = await store.write(INSERT + " RETURNING id, activity_uri", {"id": 5, "uri": "u5"})
    assert rows == [{"id": 5, "activity_uri": "u5"}]
    # committed: a reader (another connection on SQLite) sees it at once
    assert await store.fetch_val("SELECT COUNT(*) FROM inbox_items") == 1


async def test_write_count_says_how_many_rows_the_statement_changed(store):
    await store.execute(INSERT, {"id": 1, "uri": "taken"})
    insert_each = (
        "INSERT INTO inbox_items (id, activity_uri, actor_uri, type, body, state, "
        "next_attempt_at, created_at) SELECT v.id, v.uri, 'a', 'Like', '{}', 'pending', 0, 0 "
        "FROM (SELECT 2 AS id, 'new' AS uri UNION ALL SELECT 3, 'taken' UNION ALL "
        "SELECT 4, 'other') AS v WHERE true ON CONFLICT (activity_uri) DO NOTHING"
    )
    # One of three conflicts: two rows inserted, committed
    assert await store.write_count(insert_each) == 2
    assert await store.fetch_val("SELECT COUNT(*) FROM inbox_items") == 3
    # Inside a transaction it counts the same and is part of it
    async with store.transaction():
        assert await store.write_count("DELETE FROM inbox_items WHERE id > :id", {"id": 1}) == 2
        assert await store.write_count("UPDATE inbox_items SET attempts = 1") == 1
    assert await store.fetch_val("SELECT attempts FROM inbox_items") == 1


async def test_write_inside_a_transaction_is_part_of_it(store):
    with pytest.raises(RuntimeError):
        async with store.transaction():
            await store.write(INSERT + " RETURNING id", {"id": 6, "uri": "u6"})
            raise RuntimeError("boom")
    assert await store.fetch_val("SELECT COUNT(*) FROM inbox_items") == 0


async def test_a_failed_nested_transaction_undoes_only_its_own_part(store):
    async with store.transaction():
        await store.execute(INSERT, {"id": 1, "uri": "outer"})
        with pytest.raises(RuntimeError):
            async with store.transaction():
                await store.execute(INSERT, {"id": 2, "uri": "inner"})
                raise RuntimeError("boom")
        await store.execute(INSERT, {"id": 3, "uri": "after"})
    uris = [
        r["activity_uri"]
        for r in await store.fetch_all("SELECT activity_uri FROM inbox_items ORDER BY id")
    ]
    assert uris == ["outer", "after"]


async def test_savepoints_nested_in_savepoints_keep_and_undo_exactly_their_own_writes(store):
    # Given a transaction holding savepoints inside savepoints (SQLite sends them with the
    # next statement), some empty, one failing after its own nested one was released
    async with store.transaction():
        async with store.transaction():  # empty: nothing inside it
            pass
        async with store.transaction():
            async with store.transaction():
                await store.execute(INSERT, {"id": 1, "uri": "kept"})
        with pytest.raises(RuntimeError):
            async with store.transaction():
                async with store.transaction():
                    await store.execute(INSERT, {"id": 2, "uri": "undone with its parent"})
                raise RuntimeError("boom")
        with pytest.raises(RuntimeError):
            async with store.transaction():  # fails before any statement ran inside it
                async with store.transaction():
                    pass
                raise RuntimeError("boom")
        async with store.transaction():
            await store.execute(INSERT, {"id": 3, "uri": "after"})
    # Then exactly the writes of the savepoints that succeeded are committed
    uris = [
        r["activity_uri"]
        for r in await store.fetch_all("SELECT activity_uri FROM inbox_items ORDER BY id")
    ]
    assert uris == ["kept", "after"]
    # And the store writes on as usual
    await store.execute(INSERT, {"id": 4, "uri": "later"})
    assert await store.fetch_val("SELECT COUNT(*) FROM inbox_items") == 3


async def test_a_refused_statement_after_released_savepoints_undoes_only_its_own(store):
    # Given savepoints one after another, as a group of inbox items runs them (on
    # PostgreSQL each one's RELEASE waits and goes with the next SAVEPOINT)
    async with store.transaction():
        for n in range(3):
            async with store.transaction():
                await store.execute(INSERT, {"id": n + 1, "uri": f"kept {n}"})
        # When a statement inside the next one is refused by the database
        with pytest.raises(Exception):  # a repeated id: the drivers raise different classes
            async with store.transaction():
                await store.execute(INSERT, {"id": 10, "uri": "undone"})
                await store.execute(INSERT, {"id": 1, "uri": "a repeated id"})
        async with store.transaction():
            await store.execute(INSERT, {"id": 11, "uri": "after"})
    # Then only that savepoint's writes are gone
    uris = [
        r["activity_uri"]
        for r in await store.fetch_all("SELECT activity_uri FROM inbox_items ORDER BY id")
    ]
    assert uris == ["kept 0", "kept 1", "kept 2", "after"]


async def test_a_cancelled_transaction_is_rolled_back_and_the_store_still_writes(store):
    entered = asyncio.Event()

    async def slow_writer() -> None:
        async with store.transaction():
            await store.execute(INSERT, {"id": 1, "uri": "cancelled"})
            entered.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(slow_writer())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await store.execute(INSERT, {"id": 2, "uri": "next"})
    uris = [
        r["activity_uri"] for r in await store.fetch_all("SELECT activity_uri FROM inbox_items")
    ]
    assert uris == ["next"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", 4), ("?min_size=1", None), ("?max_size=2", 2), ("?schema=s1&max_size=9", 4)],
)
def test_postgresql_keeps_a_few_connections_open_unless_told_otherwise(query, expected):
    from fedi_town.store.db import Store

    store = Store("postgresql://postgres@127.0.0.1:5432/test" + query)
    # None: the URL's own min_size is left to databases (it reads it from the URL)
    assert store.db.options.get("min_size") == expected


async def _make_deferred_parent_and_child(store) -> None:
    """Two tables whose foreign key is checked at COMMIT, so a COMMIT can be made to fail."""
    if store.is_sqlite:
        await store.execute("PRAGMA foreign_keys = ON")  # off by default; outside any tx
    await store.execute("CREATE TABLE parent (id BIGINT PRIMARY KEY)")
    await store.execute(
        "CREATE TABLE child (id BIGINT PRIMARY KEY, parent_id BIGINT "
        "REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
    )


async def test_a_failed_commit_is_rolled_back_and_the_store_still_writes(store):
    # Given a transaction whose COMMIT fails (a deferred foreign key is only checked then)
    await _make_deferred_parent_and_child(store)
    with pytest.raises(Exception) as failed:  # each driver has its own class
        async with store.transaction():
            await store.execute("INSERT INTO child (id, parent_id) VALUES (1, 99)")
            await store.execute(INSERT, {"id": 1, "uri": "in the failed commit"})
    assert "foreign key" in str(failed.value).lower()
    # When the store writes again, in transactions and alone
    async with store.transaction():
        await store.execute(INSERT, {"id": 2, "uri": "after"})
    await store.execute(INSERT, {"id": 3, "uri": "alone"})
    # Then nothing of the failed transaction is there and the later writes are
    uris = await store.fetch_all("SELECT activity_uri FROM inbox_items ORDER BY id")
    assert [r["activity_uri"] for r in uris] == ["after", "alone"]
    assert await store.fetch_val("SELECT COUNT(*) FROM child") == 0


async def test_a_transaction_cancelled_while_it_begins_leaves_no_transaction_open(store):
    # Given transactions cancelled at every point of their first steps
    for delay_steps in range(6):

        async def begin_and_write(n: int = delay_steps) -> None:
            async with store.transaction():
                await store.execute(INSERT, {"id": 100 + n, "uri": f"cancelled {n}"})

        task = asyncio.create_task(begin_and_write())
        for _ in range(delay_steps):
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    # When the store writes alone and in a transaction afterwards
    await store.execute(INSERT, {"id": 1, "uri": "alone"})
    async with store.transaction():
        await store.execute(INSERT, {"id": 2, "uri": "in a transaction"})
    # Then both are committed: readers (other connections) see them
    uris = await store.fetch_all(
        "SELECT activity_uri FROM inbox_items WHERE id IN (1, 2) ORDER BY id"
    )
    assert [r["activity_uri"] for r in uris] == ["alone", "in a transaction"]


async def test_rows_that_cannot_be_decoded_fail_the_read_but_not_the_connection(tmp_path):
    # Given a SQLite row whose text is not UTF-8 (written by another connection)
    import sqlite3

    from fedi_town.store.db import Store
    from fedi_town.store.migrations import migrate

    path = tmp_path / "bad.sqlite3"
    store = Store(f"sqlite:///{path}")
    await store.connect()
    try:
        await migrate(store)
        with sqlite3.connect(path) as raw:
            raw.execute(BAD_ROW, {"id": 1})
        # When a transaction reads it and fails
        with pytest.raises(sqlite3.OperationalError):
            async with store.transaction():
                await store.fetch_all("SELECT * FROM inbox_items")
        # Then the writer still writes, and the checked read names the bad row
        await store.execute(INSERT, {"id": 2, "uri": "after"})
        async with store.transaction():
            checked = await store.fetch_all_checked("SELECT * FROM inbox_items ORDER BY id")
        assert [(row["id"], readable) for row, readable in checked] == [(1, False), (2, True)]
    finally:
        await store.disconnect()


#: An inbox row whose activity_uri holds the bytes SQLite's json_extract makes of a lone
#: surrogate (ED A0 80), which are not UTF-8.
BAD_ROW = (
    "INSERT INTO inbox_items (id, activity_uri, actor_uri, type, body, state, "
    "next_attempt_at, created_at) VALUES (:id, CAST(x'68747470733a2f2fed a080' AS TEXT), "
    "'https://peer.example/actor', 'Like', '{}', 'pending', 0, 0)"
).replace("ed a080", "eda080")


async def test_a_new_sqlite_database_and_its_directory_are_private(tmp_path):
    # Given a database path in a directory that does not exist yet
    from fedi_town.store.db import Store
    from fedi_town.store.migrations import migrate

    path = tmp_path / "data" / "town.sqlite3"
    store = Store(f"sqlite:///{path}")
    # When the store creates it and writes (WAL: the -wal and -shm files appear)
    await store.connect()
    try:
        await migrate(store)
        await store.execute(INSERT, {"id": 1, "uri": "x"})
        # Then only the owner can read any of them
        modes = {
            p.name: oct(p.stat().st_mode & 0o777)
            for p in [path.parent, path, path.with_name(path.name + "-wal"),
                      path.with_name(path.name + "-shm")]
        }  # fmt: skip
    finally:
        await store.disconnect()
    assert modes == {
        "data": "0o700", "town.sqlite3": "0o600", "town.sqlite3-wal": "0o600",
        "town.sqlite3-shm": "0o600",
    }  # fmt: skip


async def test_an_existing_database_file_readable_by_others_is_made_private(tmp_path):
    from fedi_town.store.db import Store

    path = tmp_path / "old.sqlite3"
    path.touch(mode=0o644)
    path.chmod(0o644)
    store = Store(f"sqlite:///{path}")
    await store.connect()
    await store.disconnect()
    assert oct(path.stat().st_mode & 0o777) == "0o600"


async def test_a_full_sqlite_database_raises_service_unavailable_and_recovers(tmp_path):
    # Given a SQLite database that may not grow by another page
    from fedi_town.errors import ServiceUnavailable
    from fedi_town.store.db import Store
    from fedi_town.store.migrations import migrate

    store = Store(f"sqlite:///{tmp_path / 'full.sqlite3'}")
    await store.connect()
    try:
        await migrate(store)
        pages = await store.fetch_val("PRAGMA page_count")
        await store.write(f"PRAGMA max_page_count = {pages}")
        big = "x" * 20_000
        # When a write needs more space, alone and in a transaction
        with pytest.raises(ServiceUnavailable) as alone:
            await store.execute(INSERT, {"id": 1, "uri": big + "1"})
        with pytest.raises(ServiceUnavailable):
            async with store.transaction():
                await store.execute(INSERT, {"id": 2, "uri": big + "2"})
        assert alone.value.status == 503 and alone.value.retry_after
        # Then once there is space again, the same writes go through
        await store.write("PRAGMA max_page_count = 1073741823")
        await store.execute(INSERT, {"id": 1, "uri": big + "1"})
        async with store.transaction():
            await store.execute(INSERT, {"id": 2, "uri": big + "2"})
        assert await store.fetch_val("SELECT COUNT(*) FROM inbox_items") == 2
    finally:
        await store.disconnect()


async def _terminate_pool_connections(store) -> int:
    """End every server session of ``store``'s pool from another connection, as a server
    restart or failover does; how many were ended."""
    import asyncpg

    from tests.conftest import POSTGRES_URL

    pids = [h._con.get_server_pid() for h in store._pool()._holders if h._con is not None]
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        ended = await admin.fetchval(
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) "
            "AS pid) AS t",
            pids,
        )
    finally:
        await admin.close()
    return int(ended)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_after_the_server_drops_every_connection_the_store_works_again(store):
    from fedi_town.errors import ServiceUnavailable

    # Given a store whose pooled PostgreSQL sessions were all ended by the server
    await store.execute(INSERT, {"id": 1, "uri": "before"})
    assert await _terminate_pool_connections(store) >= 1
    # When it is used again: each dead connection fails its query once, as a 503
    outcomes = []
    for n in range(2, 20):
        try:
            async with store.transaction():
                await store.execute(INSERT, {"id": n, "uri": f"after {n}"})
            outcomes.append("ok")
        except ServiceUnavailable:
            outcomes.append("503")
        if outcomes[-3:] == ["ok"] * 3:
            break
    # Then it recovers on fresh connections, with nothing half-written
    assert outcomes[-3:] == ["ok"] * 3, outcomes
    written = await store.fetch_val("SELECT COUNT(*) FROM inbox_items")
    assert written == 1 + outcomes.count("ok")


async def test_without_savepoints_a_nested_transaction_that_ran_nothing_spoils_nothing(store):
    # Given a transaction whose nested transactions open no savepoint
    async with store.transaction():
        with store.without_savepoints() as unsaved:
            async with store.transaction():
                await store.execute(INSERT, {"id": 1, "uri": "first"})
            # When a nested one fails before running any statement
            with pytest.raises(RuntimeError):
                async with store.transaction():
                    raise RuntimeError("before writing")
            async with store.transaction():
                await store.execute(INSERT, {"id": 2, "uri": "third"})
        # Then the transaction is not spoiled
        assert not unsaved.spoiled
    # And it commits everything written
    uris = [
        r["activity_uri"]
        for r in await store.fetch_all("SELECT activity_uri FROM inbox_items ORDER BY id")
    ]
    assert uris == ["first", "third"]


async def test_without_savepoints_a_nested_transaction_that_failed_after_writing_spoils_it(
    store,
):
    # Given a transaction whose nested transactions open no savepoint
    with pytest.raises(LookupError):
        async with store.transaction():
            with store.without_savepoints() as unsaved:
                # When a nested one fails after writing
                with pytest.raises(RuntimeError):
                    async with store.transaction():
                        await store.execute(INSERT, {"id": 1, "uri": "half"})
                        raise RuntimeError("after writing")
            # Then the transaction is spoiled (its caller rolls it back)
            assert unsaved.spoiled
            raise LookupError("rolled back by the caller")
    assert await store.fetch_all("SELECT id FROM inbox_items") == []
