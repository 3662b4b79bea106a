"""inbound.handlers.accounts: a remote account's profile update and its deletion, and that
nobody may speak for another account."""

from __future__ import annotations

import pytest

from tests.inbound import payloads as p
from tests.inbound.handlers.helpers import (
    ALICE,
    HANDLE,
    HOLLO,
    MISSKEY,
    ZORK,
    twice_changes_nothing,
)
from tests.inbound.helpers import (
    add_remote_actor,
    count,
    handle,
    keypair,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "make", [p.mastodon_update_person, p.fedify_update_person], ids=["mastodon", "fedify"]
)
async def test_a_profile_update_refreshes_the_cached_actor_and_keys(services, make):
    actor = ALICE if make is p.mastodon_update_person else HOLLO
    await add_remote_actor(services.store, actor)
    _, new_pem = keypair()
    update = make(actor, name="Alice Renamed", public_pem=new_pem)
    assert await handle(services, update) == "profile refreshed"
    row = await services.store.fetch_one("SELECT * FROM remote_actors")
    host = actor.split("/")[2]
    assert row["display_name"] == "Alice Renamed"
    assert row["url"] == f"https://{host}/@alice"
    assert row["icon_url"].startswith(f"https://{host}/")
    assert row["shared_inbox"] == f"https://{host}/inbox"
    [key] = await services.store.fetch_all("SELECT * FROM remote_keys")
    assert key["key_id"] == f"{actor}#main-key" and key["owner_uri"] == actor
    await twice_changes_nothing(services, update)


async def test_nobody_may_update_someone_elses_profile(services):
    await add_remote_actor(services.store, ALICE)
    await add_remote_actor(services.store, ZORK)
    update = p.mastodon_update_person(ALICE, name="Hijacked", public_pem=keypair()[1])
    update["actor"] = ZORK
    assert (await handle(services, update)).startswith("ignored")
    row = await services.store.fetch_one(
        "SELECT display_name FROM remote_actors WHERE uri = :u", {"u": ALICE}
    )
    assert row["display_name"] == "Alice"


@pytest.mark.parametrize(
    "actor, make",
    [(ALICE, p.mastodon_delete_actor), (MISSKEY, p.misskey_delete_actor)],
    ids=["mastodon", "misskey"],
)
async def test_an_account_delete_removes_every_trace_of_that_person(
    services, biz, post, actor, make
):
    _, post_uri = post
    await add_remote_actor(services.store, actor)
    other = await add_remote_actor(services.store, ZORK)
    await handle(services, p.mastodon_follow(actor, biz) | {"id": f"{actor}#f1"})
    await handle(services, p.mastodon_like(actor, post_uri) | {"id": f"{actor}#l1"})
    await handle(services, p.mastodon_announce(actor, biz, post_uri) | {"id": f"{actor}#a1"})
    reply = p.mastodon_create_reply(actor, biz, post_uri, handle=HANDLE)
    reply["object"]["id"] = f"{actor}/notes/1"
    reply["object"]["attributedTo"] = actor
    await handle(services, reply | {"id": f"{actor}/notes/1/activity"})
    await handle(services, p.mastodon_follow(ZORK, biz))
    # When the account is deleted
    assert await handle(services, make(actor)) == "account purged"
    # Then nothing of it remains, and others are untouched
    for table in ("interactions", "remote_notes", "remote_note_targets"):
        assert await count(services.store, table) == 0, table
    assert await count(services.store, "follows") == 1
    assert await count(services.store, "notifications") == 1
    assert await count(services.store, "remote_actors") == 1
    assert await count(services.store, "remote_keys", "owner_uri = :u", u=actor) == 0
    assert (await services.store.fetch_one("SELECT id FROM remote_actors"))["id"] == other.id
    await twice_changes_nothing(services, make(actor))
