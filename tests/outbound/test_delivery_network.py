"""Delivery to real servers on loopback: each answer leads to its move, signatures verify.

Five test peers, each a real HTTP server: one healthy, one that fails once then accepts, one
rate-limiting with Retry-After, one whose actor is gone (410) and one that hangs past our
(shortened) timeout. Retries are hurried along by moving ``next_attempt_at`` to now in the
database; nobody sleeps through a real backoff.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from fedi_town import worker
from fedi_town.remote.http import RemoteClient
from fedi_town.store import queue as q
from fedi_town.store.db import now_ms
from fedi_town.store.effects import Wake
from tests.live import live_instance, wait_until
from tests.outbound.conftest import add_follower, owner, write_post
from tests.peer import Hang, Status, TestPeer

pytestmark = pytest.mark.anyio


async def short_timeouts(live: Any) -> None:
    """Give the instance a client that gives up after a second (the hanging peer)."""
    old = live.services.remote
    live.services.remote = RemoteClient(
        allow_private=True,
        user_agent="fedi-town-test",
        connect_timeout=1.0,
        read_timeout=0.5,
        total_timeout=1.0,
        clock=live.services.clock,
    )
    await old.close()


async def delivery(store, inbox: str, kind: str = "Create") -> dict[str, Any] | None:
    return await store.fetch_one(
        "SELECT d.* FROM deliveries d JOIN outgoing_activities a ON a.id = d.activity_id "
        "WHERE d.inbox = :i AND a.type = :t",
        {"i": inbox, "t": kind},
    )


async def settled(store, inbox: str, **expected: Any) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        row = await delivery(store, inbox)
        if row is None or row["locked_until"] is not None:
            return None
        return row if all(row[k] == v for k, v in expected.items()) else None

    found: dict[str, Any] = await wait_until(check, timeout=10)
    return found


@pytest.fixture
async def peers() -> AsyncIterator[dict[str, TestPeer]]:
    async with AsyncExitStack() as stack:
        found = {
            name: await stack.enter_async_context(TestPeer.running("alice"))
            for name in ("healthy", "flaky", "limited", "gone", "hanging")
        }
        found["flaky"].behave("alice", [Status(500), Status(202)])
        found["limited"].behave("alice", [Status(429, {"Retry-After": "120"})])
        found["gone"].behave("alice", [Status(410)])
        found["hanging"].behave("alice", [Hang(2.0)])
        yield found


async def test_each_receiving_server_gets_what_the_policy_says(live, peers):
    # Given a business followed by alice on each of the five servers
    await short_timeouts(live)
    business = await live.create_business("bakery")
    store = live.store
    inboxes = {}
    for name, peer in peers.items():
        uri = peer.actor("alice").uri
        inboxes[name] = f"{uri}/inbox"
        await add_follower(store, business["id"], uri, inbox=inboxes[name])

    # When the owner posts
    response = await write_post(live.client, business, content="Fresh bread #Bakery")
    assert response.status_code == 201, response.text
    note_id = response.json()["uri"]

    # Then the healthy server gets the Create once, signed so that it verifies
    await settled(store, inboxes["healthy"], state="done", last_status=202)
    [got] = peers["healthy"].received
    assert got.verified, got.error
    assert got.json["type"] == "Create" and got.json["object"]["id"] == note_id
    assert got.headers["content-type"] == "application/activity+json"

    # And the flaky one is retried later, the limited one waits for its Retry-After
    flaky = await settled(store, inboxes["flaky"], state="pending", last_status=500)
    assert flaky["attempts"] == 1 and flaky["next_attempt_at"] > now_ms() + 10_000
    limited = await settled(store, inboxes["limited"], state="pending", last_status=429)
    assert 110_000 <= limited["next_attempt_at"] - now_ms() <= 121_000

    # And the gone actor is dropped as a follower for good
    await settled(store, inboxes["gone"], state="failed", last_status=410)
    gone_uri = peers["gone"].actor("alice").uri
    assert (
        await store.fetch_val(
            "SELECT COUNT(*) FROM follows f JOIN remote_actors a ON a.id = f.actor_id "
            "WHERE a.uri = :u",
            {"u": gone_uri},
        )
        == 0
    )

    # And the hanging one timed out and will be tried again
    hanging = await settled(store, inboxes["hanging"], state="pending", last_error="timeout")
    assert hanging["last_status"] is None

    # When the flaky server's retry comes due
    await store.execute(
        "UPDATE deliveries SET next_attempt_at = :now WHERE inbox = :i",
        {"now": now_ms(), "i": inboxes["flaky"]},
    )
    live.services.store.after_commit(Wake())

    # Then its second attempt is accepted, and nobody got anything twice
    await settled(store, inboxes["flaky"], state="done", last_status=202)
    assert [r.status for r in peers["flaky"].received] == [500, 202]
    assert all(r.verified for r in peers["flaky"].received)
    assert len(peers["healthy"].received) == 1
    assert len(peers["limited"].received) == 1
    assert len(peers["gone"].received) == 1

    # And the owner can see all of it
    reach = await live.client.get(
        f"/api/v1/businesses/bakery/posts/{response.json()['id']}/deliveries",
        headers=owner(business),
    )
    assert reach.json()["totals"] == {"delivered": 2, "pending": 2, "failed": 1, "cancelled": 0}


async def test_mentions_and_replies_are_resolved_over_webfinger_and_delivered(live, peer):
    # Given a note by alice on a remote server, and bob there too
    business = await live.create_business("bakery")
    note = peer.add_note("alice", "<p>Any rye today?</p>")
    alice, bob = peer.actor("alice").uri, peer.actor("bob").uri

    # When the business replies, mentioning bob as well
    response = await write_post(
        live.client,
        business,
        content=f"Yes! Ask {peer.handle('bob')} too",
        in_reply_to=note["id"],
    )

    # Then the Note replies to it, mentions both (the author first) and reaches them signed
    assert response.status_code == 201, response.text
    post = response.json()
    assert post["mentions"] == [
        {"href": alice, "name": f"@alice@{peer.host}"},
        {"href": bob, "name": f"@bob@{peer.host}"},
    ]
    assert (
        f'<span class="h-card"><a href="{peer.base}/@bob" class="u-url mention">'
        "@<span>bob</span></a></span>"
    ) in post["content_html"]
    [got] = await peer.wait_for(lambda r: r.type == "Create")
    assert got.path == "/inbox" and got.verified, got.error
    created = got.json["object"]
    assert created["inReplyTo"] == note["id"]
    assert created["cc"] == [f"{live.base_url}/users/bakery/followers", alice, bob]
    assert created["tag"] == [
        {"type": "Mention", "href": alice, "name": f"@alice@{peer.host}"},
        {"type": "Mention", "href": bob, "name": f"@bob@{peer.host}"},
    ]


async def test_a_reply_to_a_note_that_cannot_be_fetched_is_refused(live, peer):
    business = await live.create_business("bakery")
    response = await write_post(
        live.client, business, content="hm", in_reply_to=f"{peer.base}/notes/missing"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/in_reply_to"
    assert await live.store.fetch_val("SELECT COUNT(*) FROM posts") == 0


async def test_a_profile_change_and_a_deletion_reach_the_followers(live, peer):
    # Given alice follows the business
    business = await live.create_business("bakery")
    alice = peer.actor("alice").uri
    await add_follower(live.store, business["id"], alice, shared_inbox=f"{peer.base}/inbox")
    # When the owner changes the profile, then deletes the business
    changed = await live.client.patch(
        "/api/v1/businesses/bakery", json={"display_name": "Rye & Co"}, headers=owner(business)
    )
    assert changed.status_code == 200
    [update] = await peer.wait_for(lambda r: r.type == "Update")
    deleted = await live.client.delete("/api/v1/businesses/bakery", headers=owner(business))
    assert deleted.status_code == 204
    [delete] = await peer.wait_for(lambda r: r.type == "Delete")
    # Then the Update carries the whole actor, the Delete names the actor as its object
    actor = f"{live.base_url}/users/bakery"
    assert update.verified, update.error
    assert update.json["object"]["id"] == actor
    assert update.json["object"]["name"] == "Rye & Co"
    assert update.json["object"]["type"] == "Organization"
    assert delete.json["actor"] == actor and delete.json["object"] == actor
    assert delete.json["id"] == f"{actor}#delete"


async def test_a_mention_of_a_business_here_is_handed_over_without_http(live):
    bakery = await live.create_business("bakery")
    await live.create_business("cafe")
    response = await write_post(live.client, bakery, content="Coffee at @cafe", visibility="direct")
    assert response.status_code == 201, response.text

    async def handed_over() -> Any:
        return await live.store.fetch_one(
            "SELECT d.state, d.last_status FROM deliveries d WHERE d.inbox = :i "
            "AND d.state = 'done'",
            {"i": f"{live.base_url}/users/cafe/inbox"},
        )

    row = await wait_until(handed_over)
    assert row["last_status"] == 202
    await wait_until(
        lambda: live.store.fetch_val("SELECT COUNT(*) FROM inbox_items WHERE type = 'Create'")
    )
    item = await live.store.fetch_one("SELECT * FROM inbox_items WHERE type = 'Create'")
    assert item["actor_uri"] == f"{live.base_url}/users/bakery"
    assert json.loads(item["body"])["object"]["id"] == response.json()["uri"]


async def test_a_fan_out_reaches_every_inbox_once_and_rows_are_done_in_batches(live):
    # Given a business followed on three real servers, 30 personal inboxes each
    business = await live.create_business("bakery")
    async with AsyncExitStack() as stack:
        servers = [await stack.enter_async_context(TestPeer.running("alice")) for _ in range(3)]
        inboxes: list[str] = []
        for server in servers:
            for n in range(30):
                uri = f"{server.base}/users/f{n}"
                inboxes.append(f"{uri}/inbox")
                await add_follower(live.store, business["id"], uri, inbox=inboxes[-1])
        # When the owner posts
        response = await write_post(live.client, business, content="Rye is back")
        assert response.status_code == 201, response.text
        # Then every delivery row is done
        await wait_until(
            lambda: live.store.fetch_val(
                "SELECT COUNT(*) = 90 FROM deliveries WHERE state = 'done'"
            ),
            timeout=30,
        )
        # And each inbox got the Create exactly once, signed so that it verifies
        received = [r for server in servers for r in server.received if r.type == "Create"]
        paths = sorted(f"{r.path}@{r.headers['host']}" for r in received)
        assert len(paths) == 90 and len(set(paths)) == 90
        assert all(r.verified for r in received), {r.error for r in received}
    # And the rows were marked done through the batch finisher, with nothing left leased
    running = worker.running(live.services)
    assert running is not None
    finisher = running.finisher(q.DELIVERIES)
    assert finisher is not None and 1 <= finisher.batches <= 90
    assert (
        await live.store.fetch_val("SELECT COUNT(*) FROM deliveries WHERE locked_until IS NOT NULL")
        == 0
    )


@pytest.mark.parametrize("sign_threads", [0, 3])
async def test_a_fan_out_signed_in_threads_verifies_at_every_receiver(
    database_url: str, tmp_path: Path, sign_threads: int
) -> None:
    # Given fedi-town signing its deliveries in that many threads (0: on the event loop),
    # and a business followed on two real servers, 20 personal inboxes each
    async with live_instance(database_url, tmp_path, sign_threads=sign_threads) as live:
        business = await live.create_business("bakery")
        async with AsyncExitStack() as stack:
            servers = [await stack.enter_async_context(TestPeer.running("alice")) for _ in "ab"]
            for server in servers:
                for n in range(20):
                    uri = f"{server.base}/users/f{n}"
                    await add_follower(live.store, business["id"], uri, inbox=f"{uri}/inbox")
            # When the owner posts
            response = await write_post(live.client, business, content="Seeded rye")
            assert response.status_code == 201, response.text
            await wait_until(
                lambda: live.store.fetch_val(
                    "SELECT COUNT(*) = 40 FROM deliveries WHERE state = 'done'"
                ),
                timeout=30,
            )
            # Then each inbox got the Create once, and every signature verified at the
            # receiver (it fetched our key and checked it, as Mastodon does)
            received = [r for server in servers for r in server.received if r.type == "Create"]
            assert len({f"{r.path}@{r.headers['host']}" for r in received}) == len(received) == 40
            assert all(r.verified for r in received), {r.error for r in received}
            # And the client signed with the pool asked for
            assert live.services.started_remote().sign_threads == sign_threads
