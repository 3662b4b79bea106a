"""The worker's grouped inbox: claimed items handled in one transaction per group, a savepoint
each (first without, then with them if a row failed after writing), on both backends. A
handler that raises loses only its own writes; a Delete after the
Create it deletes still wins; an item that needs the network is handled alone after its group,
with its sender's later items behind it."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from fedi_town import worker as worker_module
from fedi_town.inbound.backpressure import BUSY_GROUP, accept_load
from fedi_town.inbound.dispatch import GROUP_SIZE, group_size, handle_in_group
from fedi_town.services import Services
from fedi_town.store import following, social
from fedi_town.store import inbox as inbox_store
from fedi_town.store import queue as q
from fedi_town.store.db import Row, now_ms
from fedi_town.worker import QueueRunner, Worker
from tests.inbound import payloads as p
from tests.inbound.handlers import timeline_kit
from tests.inbound.helpers import add_business, add_post, add_remote_actor
from tests.live import wait_until

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"
BEN = "https://mastodon.example/users/ben"
CY = "https://other.example/users/cy"
HANDLE = "@bakery@town.example"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def store_items(services: Services, activities: list[dict[str, Any]]) -> list[int]:
    """The activities as pending inbox items, in this order (row ids grow with it)."""
    ids = []
    for activity in activities:
        row_id = await inbox_store.add(
            services.store,
            activity_uri=activity["id"],
            business_id=None,
            actor_uri=activity["actor"],
            type=activity["type"],
            body=json.dumps(activity),
            now=now_ms(),
        )
        assert row_id is not None
        ids.append(row_id)
    return ids


async def run_until_finished(services: Services, runner: QueueRunner, ids: list[int]) -> Worker:
    """Run a worker with ``runner`` until every row in ``ids`` has left 'pending' or has
    been put back to wait (a retry), then stop it."""
    worker = Worker(services, [runner], poll_seconds=0.05)

    async def finished() -> bool:
        rows = await services.store.fetch_all(
            "SELECT state, locked_until FROM inbox_items WHERE id IN ("
            + ", ".join(str(i) for i in ids)
            + ")"
        )
        return all(r["state"] != "pending" or r["locked_until"] is None for r in rows) and not (
            worker._running
        )

    worker.start()
    try:
        await wait_until(finished, timeout=30)
    finally:
        await worker.stop()
    return worker


async def row(services: Services, row_id: int) -> Row:
    found = await services.store.fetch_one(
        "SELECT * FROM inbox_items WHERE id = :id", {"id": row_id}
    )
    assert found is not None
    return found


def inbox_runner(**changes: Any) -> QueueRunner:
    """The inbox runner the worker uses (``worker.RUNNERS``), with ``changes``."""
    [runner] = [r for r in worker_module.RUNNERS if r.queue is q.INBOX]
    return dataclasses.replace(runner, **changes)


def without_emoji(activity: dict[str, Any]) -> dict[str, Any]:
    """A Create whose note names no custom emoji (nothing to fetch)."""
    note = dict(activity["object"])
    note["tag"] = [t for t in note["tag"] if t["type"] != "Emoji"]
    return activity | {"object": note}


async def test_a_handler_that_raises_in_a_group_loses_only_its_own_writes(services):
    # Given three Likes of a post from three senders, stored before the worker starts
    bakery = await add_business(services, "bakery")
    _, post_uri = await add_post(services, bakery)
    for actor in (ALICE, BEN, CY):
        await add_remote_actor(services.store, actor)
    likes = [p.mastodon_like(a, post_uri) for a in (ALICE, BEN, CY)]
    ids = await store_items(services, likes)

    # And a handler that, for Ben's Like, raises after the real handler wrote its effects
    async def ben_fails(services: Services, claimed: Row) -> q.Outcome:
        outcome = await handle_in_group(services, claimed)
        if claimed["actor_uri"] == BEN:
            raise RuntimeError("a handler's own trouble")
        return outcome

    # When the worker handles them as one group
    worker = await run_until_finished(
        services, inbox_runner(group_handler=ben_fails, group_parts=1), ids
    )

    # Then they went through one transaction
    assert worker.groups == 1
    # And Alice's and Cy's Likes are recorded and their rows done
    assert (await row(services, ids[0]))["state"] == "done"
    assert (await row(services, ids[2]))["state"] == "done"
    likers = await services.store.fetch_all(
        "SELECT a.uri FROM interactions i JOIN remote_actors a ON a.id = i.actor_id"
    )
    assert sorted(r["uri"] for r in likers) == [ALICE, CY]
    # And Ben's row waits for a retry, its error recorded, as for a handler that raises alone
    ben = await row(services, ids[1])
    assert ben["state"] == "pending" and ben["last_error"] == "RuntimeError"
    assert ben["next_attempt_at"] > now_ms()


async def test_a_handler_that_keeps_raising_in_a_group_gives_up_at_the_attempt_cap(services):
    # Given a Like already tried up to one attempt below the inbox's cap
    bakery = await add_business(services, "bakery")
    _, post_uri = await add_post(services, bakery)
    await add_remote_actor(services.store, ALICE)
    [item] = await store_items(services, [p.mastodon_like(ALICE, post_uri)])
    cap = q.INBOX.retry.max_attempts
    assert cap is not None
    await services.store.execute(
        "UPDATE inbox_items SET attempts = :n WHERE id = :id", {"n": cap - 1, "id": item}
    )

    async def fails(services: Services, claimed: Row) -> q.Outcome:
        raise RuntimeError("still broken")

    # When its handler raises once more inside a group
    await run_until_finished(services, inbox_runner(group_handler=fails), [item])

    # Then the row is failed for good (a dead letter), as outside a group
    failed = await row(services, item)
    assert failed["state"] == "failed" and failed["last_error"] == "too many attempts"


async def test_a_delete_after_the_create_in_the_same_group_still_wins(services):
    # Given a reply to the bakery's post and its Delete, stored before the worker starts
    bakery = await add_business(services, "bakery")
    _, post_uri = await add_post(services, bakery)
    await add_remote_actor(services.store, ALICE)
    await add_remote_actor(services.store, BEN)
    biz = services.urls.actor(bakery.username)
    create = without_emoji(p.mastodon_create_reply(ALICE, biz, post_uri, handle=HANDLE))
    ben_like = p.mastodon_like(BEN, post_uri)
    ids = await store_items(services, [create, ben_like, p.mastodon_delete_note(ALICE)])

    # When the worker handles them as one group (PostgreSQL would split a claim by sender)
    worker = await run_until_finished(services, inbox_runner(group_parts=1), ids)

    # Then one transaction took them all, in order: the note is gone, Ben's Like stays
    assert worker.groups == 1
    assert [(await row(services, i))["state"] for i in ids] == ["done"] * 3
    assert await social.note_by_uri(services.store, create["object"]["id"]) is None
    assert len(await services.store.fetch_all("SELECT id FROM interactions")) == 1


async def test_an_item_that_needs_the_network_is_handled_alone_and_its_sender_waits(services):
    # Given a reply naming a custom emoji not fetched yet (its icon needs a fetch), then
    # its Delete, and a Like from someone else in between
    bakery = await add_business(services, "bakery")
    _, post_uri = await add_post(services, bakery)
    await add_remote_actor(services.store, ALICE)
    await add_remote_actor(services.store, BEN)
    biz = services.urls.actor(bakery.username)
    create = p.mastodon_create_reply(ALICE, biz, post_uri, handle=HANDLE)
    create["object"]["tag"][-1]["icon"]["url"] = "http://127.0.0.1:9/blobcat.png"
    ids = await store_items(
        services, [create, p.mastodon_like(BEN, post_uri), p.mastodon_delete_note(ALICE)]
    )

    # When the worker handles them (one group: PostgreSQL would split a claim by sender)
    worker = await run_until_finished(services, inbox_runner(group_parts=1), ids)

    # Then the group took Ben's Like, the Create went alone (with the network), and Alice's
    # Delete after it: every row is done and the note is gone, not left behind
    assert worker.groups == 1
    assert [(await row(services, i))["state"] for i in ids] == ["done"] * 3
    assert await social.note_by_uri(services.store, create["object"]["id"]) is None
    create_row, delete_row = await row(services, ids[0]), await row(services, ids[2])
    assert delete_row["done_at"] >= create_row["done_at"]


async def test_a_group_is_one_item_while_the_inboxes_take_a_burst(services):
    # Given quiet inboxes, a group may hold GROUP_SIZE items
    assert group_size(services) == GROUP_SIZE
    # When a burst makes the inbox writer commit a large group
    accept_load(services).note_group(BUSY_GROUP)
    # Then items go one at a time
    assert group_size(services) == 1


async def test_groups_split_by_sender_keep_each_sender_s_order(services):
    # Given a reply, Likes from two other senders, then the reply's Delete, with the runner
    # as shipped (on PostgreSQL a claim is split by sender into groups run side by side)
    bakery = await add_business(services, "bakery")
    _, post_uri = await add_post(services, bakery)
    for actor in (ALICE, BEN, CY):
        await add_remote_actor(services.store, actor)
    biz = services.urls.actor(bakery.username)
    create = without_emoji(p.mastodon_create_reply(ALICE, biz, post_uri, handle=HANDLE))
    likes = [p.mastodon_like(a, post_uri) for a in (BEN, CY)]
    ids = await store_items(services, [create, *likes, p.mastodon_delete_note(ALICE)])

    # When the worker handles them
    await run_until_finished(services, inbox_runner(), ids)

    # Then every row is done, both Likes are recorded, and the Delete still came after
    # its Create: the note is gone
    assert [(await row(services, i))["state"] for i in ids] == ["done"] * 4
    assert len(await services.store.fetch_all("SELECT id FROM interactions")) == 2
    assert await social.note_by_uri(services.store, create["object"]["id"]) is None


async def test_a_group_runs_without_savepoints_and_again_with_them_when_a_row_failed_after_writing(
    services,
):
    # Given three Likes of a post from three senders, twice over: the second time Ben's
    # handler raises after writing his Like, the first time before writing anything
    bakery = await add_business(services, "bakery")
    _, post_uri = await add_post(services, bakery)
    for actor in (ALICE, BEN, CY):
        await add_remote_actor(services.store, actor)
    calls: dict[str, int] = {}
    fail_after_writing = False

    async def ben_fails(services: Services, claimed: Row) -> q.Outcome:
        calls[claimed["actor_uri"]] = calls.get(claimed["actor_uri"], 0) + 1
        if claimed["actor_uri"] == BEN and not fail_after_writing:
            raise RuntimeError("before writing")
        outcome = await handle_in_group(services, claimed)
        if claimed["actor_uri"] == BEN:
            raise RuntimeError("after writing")
        return outcome

    runner = inbox_runner(group_handler=ben_fails, group_parts=1)
    first = await store_items(services, [p.mastodon_like(a, post_uri) for a in (ALICE, BEN, CY)])

    # When the worker handles the first three, Ben failing before writing
    await run_until_finished(services, runner, first)

    # Then each handler ran once: the group needed no savepoint to keep the others
    assert calls == {ALICE: 1, BEN: 1, CY: 1}
    assert [(await row(services, i))["state"] for i in first] == ["done", "pending", "done"]

    # When Ben's own handler later fails after writing, in a group with new items
    await services.store.execute("DELETE FROM interactions")
    await services.store.execute("DELETE FROM notifications")
    fail_after_writing = True
    calls.clear()
    second = await store_items(
        services,
        [p.mastodon_like(a, post_uri) | {"id": f"{a}#likes/second"} for a in (ALICE, BEN, CY)],
    )
    await run_until_finished(services, runner, second)

    # Then the group ran again with savepoints: Alice's and Cy's Likes are recorded with
    # their notifications, Ben's neither (his row waits for a retry)
    assert calls[ALICE] == 2 and calls[CY] == 1
    likers = await services.store.fetch_all(
        "SELECT a.uri FROM interactions i JOIN remote_actors a ON a.id = i.actor_id"
    )
    assert sorted(r["uri"] for r in likers) == [ALICE, CY]
    notified = await services.store.fetch_all(
        "SELECT a.uri FROM notifications n JOIN remote_actors a ON a.id = n.actor_id"
    )
    assert sorted(r["uri"] for r in notified) == [ALICE, CY]
    states = [(await row(services, i))["state"] for i in second]
    assert states == ["done", "pending", "done"]


async def test_a_post_after_the_accept_of_a_follow_in_the_same_group_reaches_the_timeline(
    services,
):
    # Given the bakery's pending follow of Alice, and a Like of the bakery's post from Ben
    bakery = await add_business(services, "bakery")
    _, post_uri = await add_post(services, bakery)
    alice = await add_remote_actor(services.store, ALICE)
    await add_remote_actor(services.store, BEN)
    pending = await following.insert(
        services.store,
        business_id=bakery.id,
        actor_id=alice.id,
        follow_uri=f"{services.urls.actor(bakery.username)}#follows/1",
        now=now_ms(),
    )
    # And, in this order: a post by Alice (read while nobody follows her), Ben's Like, her
    # Accept of the follow, then another post by her
    accept = {
        "@context": p.AS,
        "id": f"{ALICE}#accepts/follows/1",
        "type": "Accept",
        "actor": ALICE,
        "object": pending.follow_uri,
    }
    before, after = timeline_kit.note(ALICE), timeline_kit.note(ALICE)
    ids = await store_items(
        services,
        [
            timeline_kit.create(before),
            p.mastodon_like(BEN, post_uri),
            accept,
            timeline_kit.create(after),
        ],
    )

    # When the worker handles them as one group
    worker = await run_until_finished(services, inbox_runner(group_parts=1), ids)

    # Then the post after the Accept reached the bakery's home timeline, the one before
    # did not: who follows Alice was read again after the Accept
    assert worker.groups == 1
    assert [(await row(services, i))["state"] for i in ids] == ["done"] * 4
    shown = await services.store.fetch_all(
        "SELECT entry_uri FROM timeline WHERE business_id = :b", {"b": bakery.id}
    )
    assert [r["entry_uri"] for r in shown] == [after["id"]]
