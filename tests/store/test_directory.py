"""store.directory: the directory is a business row of its own kind, found alone, never logged
into; members are the live, listed businesses; its sent boosts are found by post."""

from __future__ import annotations

import asyncio

import pytest

from fedi_town.errors import Conflict
from fedi_town.store import businesses, outbox
from fedi_town.store import directory as store_directory
from fedi_town.store.db import now_ms
from tests.store.conftest import a_business, a_post

pytestmark = pytest.mark.anyio


async def a_directory(store, username="town"):
    return await store_directory.create(
        store,
        username=username,
        display_name="Town",
        summary="All of us",
        sealed_private_key="sealed-town",
        public_key_pem="public-town",
        now=now_ms(),
    )


async def test_the_directory_is_created_as_a_directory_with_no_login(store):
    created = await a_directory(store)
    assert created is not None
    assert created.kind == "directory" and not created.in_directory and not created.indexable
    assert created.display_name == "Town" and created.summary == "All of us"
    assert (await store_directory.find(store)).id == created.id
    row = await store.fetch_one(
        "SELECT owner_token_hash FROM businesses WHERE id = :i", {"i": created.id}
    )
    assert ":" in row["owner_token_hash"]  # never a SHA-256 hex digest


async def test_a_taken_username_creates_nothing(store):
    await a_business(store, "town")
    assert await a_directory(store, "TOWN") is None
    assert await store_directory.find(store) is None
    assert len(await businesses.list_all(store)) == 1


async def test_a_deleted_directory_is_not_found(store):
    created = await a_directory(store)
    await businesses.mark_deleted(store, created.id, now=now_ms())
    assert await store_directory.find(store) is None


async def test_members_are_live_listed_businesses_only(store):
    # Given the directory, a member, one opted out, one not discoverable, one deleted
    await a_directory(store)
    await a_business(store, "bakery")
    for name, changes in (("quiet", {"in_directory": False}), ("hidden", {"discoverable": False})):
        b = await a_business(store, name)
        await businesses.update(store, b.id, changes, now=now_ms())
    gone = await a_business(store, "gone")
    await businesses.mark_deleted(store, gone.id, now=now_ms())
    # Then only the bakery is a member
    assert [b.username for b in await store_directory.members(store)] == ["bakery"]


async def test_sent_announces_are_found_by_post_with_the_inboxes_they_reached(store):
    # Given a post announced by the directory to two inboxes, one reached and one not yet
    directory = await a_directory(store)
    bakery = await a_business(store, "bakery")
    post = await a_post(store, bakery)
    body = {"id": "https://town.example/users/town#announces/1", "type": "Announce"}
    activity = await outbox.enqueue(
        store,
        business_id=directory.id,
        body=body,
        inboxes=["https://a.example/inbox", "https://b.example/inbox"],
        post_id=post.id,
        now=now_ms(),
    )
    await store.execute(
        "UPDATE deliveries SET state = 'done' WHERE activity_id = :a AND inbox = :i",
        {"a": activity, "i": "https://a.example/inbox"},
    )
    # Then it is found with the inbox it reached
    [sent] = await store_directory.announces_of(store, post.id)
    assert sent.business_id == directory.id and sent.body == body
    assert sent.inboxes == ["https://a.example/inbox"]


async def test_an_instance_has_one_live_directory_even_when_two_are_made_at_once(store):
    # When two directories are made at once (two admins, or two processes)
    results = await asyncio.gather(
        a_directory(store, "town"), a_directory(store, "city"), return_exceptions=True
    )
    # Then one is made and the other is refused as a conflict
    made = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(made) == 1 and len(refused) == 1
    # And once it is deleted, a new one may be made
    await businesses.mark_deleted(store, made[0].id, now=now_ms())
    assert await a_directory(store, "village") is not None


async def test_the_database_itself_refuses_a_second_live_directory(store):
    await a_directory(store, "town")
    second = await a_business(store, "city")
    with pytest.raises(Exception, match=r"(?i)unique"):
        await store.execute(
            "UPDATE businesses SET kind = 'directory' WHERE id = :i", {"i": second.id}
        )
