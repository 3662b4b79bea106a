"""Schema migrations: numbered, applied once, in order, by one process at a time."""

from __future__ import annotations

import asyncio

import pytest

from fedi_town.store import migrations as migrations_module
from fedi_town.store.db import Store
from fedi_town.store.migrations import MIGRATIONS, current_version, migrate, pending

#: every test here starts from a database with no tables (not a migrated pooled schema)
pytestmark = [pytest.mark.anyio, pytest.mark.empty_database]

VERSIONS = [number for number, _, _ in MIGRATIONS]


def test_migrations_are_numbered_one_after_another_with_names():
    assert VERSIONS == list(range(1, len(MIGRATIONS) + 1))
    assert all(name and statements for _, name, statements in MIGRATIONS)


async def test_an_empty_database_gets_every_migration_once(database_url):
    # Given an empty database
    store = Store(database_url)
    await store.connect()
    try:
        # When it is migrated twice
        first = await migrate(store)
        second = await migrate(store)
        # Then every migration ran the first time, none the second, and each is recorded
        assert first == VERSIONS and second == []
        assert await current_version(store) == VERSIONS[-1]
        rows = await store.fetch_all("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == VERSIONS
    finally:
        await store.disconnect()


async def test_processes_starting_at_once_apply_each_migration_exactly_once(database_url):
    # Given three processes' stores on one empty database
    stores = [Store(database_url) for _ in range(3)]
    for store in stores:
        await store.connect()
    try:
        # When they all migrate at the same time
        results = await asyncio.gather(*(migrate(store) for store in stores))
        # Then the migrations were applied once in all, and the schema is complete
        applied = sorted(version for result in results for version in result)
        assert applied == VERSIONS
        assert await current_version(stores[0]) == VERSIONS[-1]
    finally:
        for store in stores:
            await store.disconnect()


async def test_pending_lists_what_migrate_would_apply_without_writing(database_url):
    # Given an empty database
    store = Store(database_url)
    await store.connect()
    try:
        # When the pending migrations are asked for, before and after migrating
        before = await pending(store)
        created = await store.fetch_val(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'schema_migrations'"
            if store.is_sqlite
            else "SELECT COUNT(*) FROM information_schema.tables "
            "WHERE table_name = 'schema_migrations' AND table_schema = current_schema()"
        )
        await migrate(store)
        after = await pending(store)
        # Then every migration was pending (and asking made no table), and none is after
        assert before == VERSIONS and created == 0
        assert after == []
    finally:
        await store.disconnect()


async def test_the_applied_version_is_read_without_writing_and_is_the_latest(store):
    # Given a migrated database, when its version is read the read-only way
    applied = await migrations_module.applied_version(store)
    # Then it is the last migration's number
    assert applied == migrations_module.LATEST_VERSION == VERSIONS[-1]
