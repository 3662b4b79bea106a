"""Blocks and reports. The block list each process keeps in memory: a change made here is
seen at once; one made by another process sharing the database, at the next refresh."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fedi_town.store import moderation
from fedi_town.store.db import Store, now_ms
from fedi_town.store.migrations import migrate
from tests.store.conftest import a_business

pytestmark = pytest.mark.anyio

ALICE = "https://remote.example/users/alice"


@pytest.fixture
async def two_processes(database_url: str) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores on one database, as two processes would have."""
    first, second = Store(database_url), Store(database_url)
    await first.connect()
    await migrate(first)
    await second.connect()
    try:
        yield first, second
    finally:
        await second.disconnect()
        await first.disconnect()


async def test_a_block_added_or_lifted_in_this_process_counts_at_once(two_processes, monkeypatch):
    store, _ = two_processes
    monkeypatch.setattr(moderation, "BLOCKS_REFRESH_SECONDS", 3600.0)
    assert await moderation.blocking(store, ALICE) is None  # the list is in memory now
    # When this process blocks the domain, then lifts the block
    block, _ = await moderation.add_block(
        store, business_id=None, actor_uri=None, domain="remote.example", now=now_ms()
    )
    blocked = await moderation.blocking(store, ALICE)
    await moderation.delete_block(store, business_id=None, block_id=block.id)
    # Then each change counted from the next check on, with no refresh due
    assert blocked is not None and blocked.domain == "remote.example"
    assert await moderation.blocking(store, ALICE) is None


async def test_a_block_added_by_another_process_counts_at_the_next_refresh(
    two_processes, monkeypatch
):
    here, elsewhere = two_processes
    assert await moderation.blocking(here, ALICE) is None
    # When another process blocks alice for one business
    await moderation.add_block(elsewhere, business_id=7, actor_uri=ALICE, domain=None, now=now_ms())
    # Then once this process's list is due for a refresh, the block counts here
    monkeypatch.setattr(moderation, "BLOCKS_REFRESH_SECONDS", 0.0)
    found = await moderation.blocking(here, ALICE, 7)
    assert found is not None and found.business_id == 7
    # And only for that business
    assert await moderation.blocking(here, ALICE) is None
    assert await moderation.blocking(here, ALICE, 8) is None


async def test_instance_blocks_come_first_and_subdomains_are_covered(two_processes):
    store, _ = two_processes
    await moderation.add_block(store, business_id=7, actor_uri=ALICE, domain=None, now=now_ms())
    await moderation.add_block(
        store, business_id=None, actor_uri=None, domain="example", now=now_ms()
    )
    found = await moderation.blocking(store, ALICE, 7)
    assert found is not None and found.business_id is None and found.domain == "example"
    assert await moderation.blocking(store, "https://other.test/users/bob", 7) is None
    key = "https://a.example:8443/users/bob#main-key"
    assert await moderation.blocking(store, "https://x.test/u", also=[key]) is not None


def test_a_domain_block_is_looked_up_by_host_and_port_host_and_each_parent_domain():
    assert moderation.domain_candidates("https://a.b.Example:8443/users/x") == [
        "a.b.example:8443",
        "a.b.example",
        "b.example",
        "example",
    ]
    assert moderation.domain_candidates("bad.test") == ["bad.test", "test"]
    assert moderation.domain_candidates("https:///nohost") == []


async def test_the_same_block_added_twice_is_one_block(store):
    first, new = await moderation.add_block(
        store, business_id=None, actor_uri=None, domain="bad.test", now=now_ms()
    )
    again, new_again = await moderation.add_block(
        store, business_id=None, actor_uri=None, domain="bad.test", now=now_ms()
    )
    assert new and not new_again and again == first
    assert await moderation.list_blocks(store, business_id=None, limit=10) == [first]


async def test_a_block_is_lifted_only_by_its_own_scope(store):
    # Given an instance-wide block
    block, _ = await moderation.add_block(
        store, business_id=None, actor_uri=ALICE, domain=None, now=now_ms()
    )
    # When a business tries to lift it, then the admin does
    by_business = await moderation.delete_block(store, business_id=1, block_id=block.id)
    by_admin = await moderation.delete_block(store, business_id=None, block_id=block.id)
    # Then only the admin could
    assert not by_business and by_admin
    assert await moderation.blocking(store, ALICE) is None


async def test_a_report_is_stored_once_with_each_business_it_names(store):
    # Given two businesses named by one Flag
    bakery, cafe = await a_business(store, "bakery"), await a_business(store, "cafe")
    flag = {
        "activity_uri": "https://remote.example/flags/1",
        "actor_uri": ALICE,
        "content": "spam",
        "object_uris": ["https://town.test/users/bakery"],
        "business_ids": [bakery.id, cafe.id],
    }
    # When it arrives twice
    report_id = await moderation.add_report(store, **flag, now=now_ms())
    again = await moderation.add_report(store, **flag, now=now_ms())
    # Then it is one report, seen by each business and by the admin
    assert report_id is not None and again is None
    assert sorted(await moderation.report_targets(store, report_id)) == sorted([bakery.id, cafe.id])
    for business_id in (bakery.id, cafe.id, None):
        [report] = await moderation.list_reports(store, business_id=business_id, limit=10)
        assert report.id == report_id and report.content == "spam"
