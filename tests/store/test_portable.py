"""Rows in a form either backend takes: kinds, order, snapshot and an all-or-nothing load."""

from __future__ import annotations

import pytest

from fedi_town.store import portable
from fedi_town.store.db import Store
from fedi_town.store.migrations import MIGRATIONS, migrate
from tests.store.conftest import a_business

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("declared", "kind"),
    [
        ("BIGINT", "integer"),
        ("bigint", "integer"),
        ("INTEGER", "integer"),
        ("BOOLEAN", "boolean"),
        ("boolean", "boolean"),
        ("TEXT", "text"),
        ("text", "text"),
        ("double precision", "real"),
        ("REAL", "real"),
    ],
)
def test_a_column_is_read_by_its_portable_kind_on_either_backend(declared, kind):
    assert portable.kind_of(declared) == kind


def test_tables_load_in_the_order_the_migrations_create_them():
    order = portable.ordered(["web_sessions", "zzz_new", "invites", "people", "businesses"])
    assert order == ["businesses", "people", "invites", "web_sessions", "zzz_new"]


async def test_a_snapshot_holds_every_data_table_with_booleans_nulls_and_milliseconds(store):
    # Given a business (booleans, NULL columns, BIGINT milliseconds, JSON text)
    business = await a_business(store)
    rows: dict[str, list[portable.Row]] = {}
    # When the store is read as a snapshot
    snap = await portable.snapshot(store, lambda t, r: rows.setdefault(t, []).append(r))
    # Then every data table is there (not schema_migrations), with JSON-ready values
    assert "schema_migrations" not in snap.columns
    assert snap.counts == await portable.counts(store)
    assert snap.schema_version == MIGRATIONS[-1][0]
    [row] = rows["businesses"]
    assert row["id"] == business.id and isinstance(row["created_at"], int)
    assert row["discoverable"] is True and row["manually_approves_followers"] is False
    assert row["deleted_at"] is None and row["fields"] == "[]"
    assert dict(snap.columns["businesses"])["discoverable"] == "boolean"


async def test_a_load_whose_counts_do_not_match_leaves_the_target_as_it_was(store, tmp_path):
    # Given a snapshot of a store with a business
    await a_business(store)
    rows: dict[str, list[portable.Row]] = {}
    snap = await portable.snapshot(store, lambda t, r: rows.setdefault(t, []).append(r))
    target = Store(f"sqlite:///{tmp_path / 'target.sqlite3'}")
    await target.connect()
    try:
        await migrate(target)
        # When it is loaded with a count that says one business more
        expected = snap.counts | {"businesses": 2}
        with pytest.raises(portable.CountMismatch, match="businesses: expected 2"):
            await portable.replace_all(
                target, snap.columns, lambda t: iter(rows.get(t, [])), expected
            )
        # Then nothing of it stayed
        assert set((await portable.counts(target)).values()) == {0}
    finally:
        await target.disconnect()


async def test_a_column_the_target_does_not_have_is_refused_before_writing(store):
    await a_business(store)
    rows: dict[str, list[portable.Row]] = {}
    snap = await portable.snapshot(store, lambda t, r: rows.setdefault(t, []).append(r))
    columns = snap.columns | {"businesses": [*snap.columns["businesses"], ("x; DROP", "text")]}
    with pytest.raises(ValueError, match=r"no businesses\.x; DROP"):
        await portable.replace_all(store, columns, lambda t: iter(rows.get(t, [])), snap.counts)
    assert (await portable.counts(store))["businesses"] == 1


async def test_text_sqlite_holds_that_is_not_utf8_does_not_stop_a_backup(tmp_path):
    # Given a SQLite row whose text is not UTF-8 (only SQLite can hold such text)
    store = Store(f"sqlite:///{tmp_path / 'bad.sqlite3'}")
    await store.connect()
    try:
        await migrate(store)
        await store.execute(
            "INSERT INTO instance_kv (key, value) VALUES ('k', CAST(x'ff41' AS TEXT))"
        )
        rows: dict[str, list[portable.Row]] = {}
        # When it is read as a snapshot
        await portable.snapshot(store, lambda t, r: rows.setdefault(t, []).append(r))
        # Then the row is kept, its broken byte replaced
        assert rows["instance_kv"] == [{"key": "k", "value": "\ufffdA"}]
    finally:
        await store.disconnect()
