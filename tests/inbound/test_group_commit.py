"""The inbox writer's group commit, on a real store (SQLite and PostgreSQL).

Requests hand activities to ``InboxWriter.store`` and wait; what is handed over together is
written in one transaction. What matters: every activity answered is stored, once; a
repeat is answered "received before"; a failing group never acknowledges what was not
stored; closing stores everything handed over.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from fedi_town.inbound.backpressure import accept_load
from fedi_town.inbound.group_commit import InboxWriter
from fedi_town.store.db import Store
from fedi_town.store.effects import Wake
from fedi_town.store.inbox import Received
from tests.inbound.helpers import count

pytestmark = pytest.mark.anyio

ALICE = "https://remote.example/users/alice"


def like(n: int | str) -> Received:
    uri = f"https://remote.example/likes/{n}"
    body = json.dumps({"id": uri, "type": "Like", "actor": ALICE, "object": "https://x/1"})
    return Received(uri, None, ALICE, "Like", body)


async def stored_uris(store: Store) -> list[str]:
    rows = await store.fetch_all("SELECT activity_uri FROM inbox_items ORDER BY id")
    return [str(r["activity_uri"]) for r in rows]


async def poison_inserts(store: Store) -> None:
    """A real database error for any activity id containing "poison" (a trigger)."""
    if store.is_sqlite:
        await store.execute(
            "CREATE TRIGGER poison BEFORE INSERT ON inbox_items "
            "WHEN NEW.activity_uri LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
        )
        return
    await store.execute(
        "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.activity_uri LIKE '%poison%' THEN RAISE EXCEPTION 'poisoned'; END IF; "
        "RETURN NEW; END $$"
    )
    await store.execute(
        "CREATE TRIGGER poison BEFORE INSERT ON inbox_items FOR EACH ROW EXECUTE FUNCTION poison()"
    )


async def test_activities_handed_over_together_share_one_transaction_and_are_each_stored(
    services,
):
    # Given the writer and fifty activities arriving at the same moment
    writer = InboxWriter(services)
    items = [like(n) for n in range(50)]
    # When every request hands its activity over
    ids = await asyncio.gather(*(writer.store(item) for item in items))
    # Then each got its own row, in one group, in the order they arrived
    assert all(isinstance(i, int) for i in ids)
    assert len(set(ids)) == 50
    assert writer.groups == 1
    assert await stored_uris(services.store) == [item.activity_uri for item in items]
    await writer.close()


async def test_a_burst_wakes_the_worker_once_it_is_over(services):
    # Given a worker listening for new inbox work (one whose last claim came back short)
    woken: list[bool] = []
    load = accept_load(services)
    services.store.on_commit(Wake, lambda wake: woken.append(load.busy()))
    writer = InboxWriter(services)
    # When a burst's large group is stored
    await asyncio.gather(*(writer.store(like(n)) for n in range(50)))
    # Then the inboxes count as busy and the worker is left alone meanwhile
    assert load.busy()
    assert woken == []

    # And it is woken once, when the burst is over (not at its next poll)
    async def until_woken() -> None:
        while not woken:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(until_woken(), timeout=30)
    assert woken == [False]
    await writer.close()


async def test_a_quiet_group_wakes_the_worker_at_once(services):
    woken: list[Wake] = []
    services.store.on_commit(Wake, woken.append)
    writer = InboxWriter(services)
    # When a request's activity is stored while the inboxes are quiet
    await writer.store(like("alone"))
    # Then the worker is woken with its commit
    assert [w.queue.table for w in woken if w.queue is not None] == ["inbox_items"]
    await writer.close()


async def test_a_repeat_in_the_same_group_is_stored_once_and_answered_as_received_before(
    services,
):
    writer = InboxWriter(services)
    # Given the same activity twice among others, handed over together
    ids = await asyncio.gather(*(writer.store(item) for item in [like(1), like(2), like(1)]))
    # Then the first is stored, the repeat is answered "received before"
    assert isinstance(ids[0], int) and isinstance(ids[1], int)
    assert ids[2] is None
    assert writer.groups == 1
    assert await count(services.store, "inbox_items") == 2
    await writer.close()


async def test_a_repeat_in_a_later_group_is_answered_as_received_before(services):
    writer = InboxWriter(services)
    first = await writer.store(like(1))
    # When the same activity comes again later, with a new one
    again, new = await asyncio.gather(writer.store(like(1)), writer.store(like(2)))
    # Then the repeat is not stored twice
    assert isinstance(first, int)
    assert again is None
    assert isinstance(new, int)
    assert writer.groups == 2
    assert await count(services.store, "inbox_items") == 2
    await writer.close()


async def test_a_group_that_fails_acknowledges_only_what_was_stored(services):
    # Given a database that refuses one of the activities of a group
    await poison_inserts(services.store)
    writer = InboxWriter(services)
    items = [like(1), like(2), like("poison"), like(3)]
    # When they are handed over together
    outcomes = await asyncio.gather(*(writer.store(i) for i in items), return_exceptions=True)
    # Then the refused one gets the error (its request answers 500, not 202) ...
    assert isinstance(outcomes[2], Exception)
    # ... and every other one is stored and acknowledged
    assert all(isinstance(outcomes[i], int) for i in (0, 1, 3))
    assert await stored_uris(services.store) == [items[i].activity_uri for i in (0, 1, 3)]
    # And the writer goes on with later groups
    assert isinstance(await writer.store(like(4)), int)
    await writer.close()


async def test_a_database_that_refuses_everything_acknowledges_nothing(services):
    # Given a store whose table is gone
    writer = InboxWriter(services)
    await services.store.execute("DROP TABLE inbox_items")
    # When activities are handed over
    outcomes = await asyncio.gather(
        *(writer.store(like(n)) for n in range(3)), return_exceptions=True
    )
    # Then each request gets an error, none an acknowledgement
    assert all(isinstance(o, Exception) for o in outcomes)
    await writer.close()


async def test_closing_stores_everything_handed_over_before_it_stops(services):
    # Given requests that handed their activities over and are waiting
    writer = InboxWriter(services)
    first = await writer.store(like(0))  # the writer runs
    waiting = [asyncio.create_task(writer.store(like(n))) for n in range(1, 30)]
    await asyncio.sleep(0)  # each has handed its activity over
    # When the app shuts down
    await writer.close()
    # Then every one of them was stored and answered
    ids = [await task for task in waiting]
    assert all(isinstance(i, int) for i in [first, *ids])
    assert await count(services.store, "inbox_items") == 30
    # And an activity arriving after that is stored directly
    assert isinstance(await writer.store(like(30)), int)
    assert await count(services.store, "inbox_items") == 31


async def test_in_a_group_with_repeats_each_new_activity_gets_its_own_rows_id(services):
    writer = InboxWriter(services)
    await asyncio.gather(*(writer.store(like(n)) for n in (2, 4)))
    # When a group mixes activities stored before with new ones
    ids = await asyncio.gather(*(writer.store(like(n)) for n in range(1, 6)))
    # Then the repeats are answered "received before" and each new one gets the id of the
    # row that holds it (found by the ids made for the group, not by counting)
    assert ids[1] is None and ids[3] is None
    for n, row_id in ((1, ids[0]), (3, ids[2]), (5, ids[4])):
        stored = await services.store.fetch_val(
            "SELECT activity_uri FROM inbox_items WHERE id = :id", {"id": row_id}
        )
        assert stored == like(n).activity_uri
    assert await count(services.store, "inbox_items") == 5
    await writer.close()
