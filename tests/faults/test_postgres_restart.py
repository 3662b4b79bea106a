"""PostgreSQL restarted under a running instance: nothing accepted is lost, nothing is sent
again and again (issue #11: a finisher kept a dead connection, so sent deliveries were never
marked done and went out again at every lease until fedi-town was restarted).

The restarts happen on a private cluster (``private_postgres``), never on the shared server.
Leases last 2 s here, so a row that would come back does so within the test.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from fedi_town.store import outbox
from fedi_town.store.db import now_ms
from fedi_town.store.effects import Wake
from tests.faults.conftest import instance, schema_url
from tests.live import wait_until
from tests.peer import Hang, TestPeer
from tests.reliability import record

pytestmark = pytest.mark.anyio

LEASE_MS = 2_000
RECEIVERS = 150
ACTIVITIES = 120


async def _all_done(live, table: str) -> bool:
    left = await live.store.fetch_val(f"SELECT COUNT(*) FROM {table} WHERE state <> 'done'")
    return int(left) == 0


async def test_a_postgresql_restart_during_fan_out_loses_nothing_and_ends(
    private_postgres, tmp_path
):
    async with (
        instance(schema_url(private_postgres), tmp_path, lease_ms=LEASE_MS) as live,
        TestPeer.running("alice") as peer,
    ):
        peer.verify_signatures = False  # the sender is under test, not the signatures
        peer.behave("*", [Hang(0.02)])
        business = await live.create_business("bakery")
        actor = f"{live.base_url}/users/bakery"
        inboxes = [f"{peer.base}/users/f{n}/inbox" for n in range(RECEIVERS)]
        # Given a fan-out to RECEIVERS inboxes under way
        await outbox.enqueue(
            live.store,
            business_id=int(business["id"]),
            body={"id": f"{actor}#fanout", "type": "Create", "actor": actor,
                  "object": {"id": f"{actor}#note", "type": "Note"}},
            inboxes=inboxes,
            now=now_ms(),
        )  # fmt: skip
        live.services.store.after_commit(Wake())
        await wait_until(lambda: len(peer.received) >= RECEIVERS // 4, timeout=30)
        # When PostgreSQL restarts in the middle of it
        await asyncio.to_thread(private_postgres.restart)
        # Then every delivery is marked done once the database is back
        await wait_until(lambda: _all_done(live, "deliveries"), timeout=60, interval=0.1)
        done_at = len(peer.received)
        # and nothing more goes out over three lease periods (no endless re-sending)
        await asyncio.sleep(3 * LEASE_MS / 1000)
        late = len(peer.received) - done_at
        counts = Counter(r.path for r in peer.received)
    lost = sum(1 for i in inboxes if counts[i.removeprefix(peer.base)] == 0)
    duplicates = sum(counts.values()) - len(counts)
    outcome = "survived" if lost == 0 and late == 0 else "failed"
    record("faults", "PostgreSQL restart during fan-out", outcome, lost=lost,
           duplicates=duplicates, sent_after_done=late)  # fmt: skip
    assert lost == 0
    assert late == 0
    assert duplicates <= 128 + 64  # at most what was in flight or awaiting its commit


async def test_a_postgresql_restart_during_an_inbox_burst_loses_nothing_accepted(
    private_postgres, tmp_path
):
    async with (
        instance(schema_url(private_postgres), tmp_path, lease_ms=LEASE_MS) as live,
        TestPeer.running("alice") as peer,
    ):
        business = await live.create_business("bakery")
        written = await live.client.post(
            "/api/v1/businesses/bakery/posts", json={"content": "Fresh rye today"},
            headers={"Authorization": f"Bearer {business['owner_token']}"},
        )  # fmt: skip
        post_uri = written.json()["uri"]
        actor = f"{live.base_url}/users/bakery"
        inbox = f"{actor}/inbox"
        replies = [peer.reply(post_uri, actor, f"reply {n}") for n in range(ACTIVITIES)]
        assert (await peer.post(inbox, replies[0])).status_code == 202  # keys fetched once
        # Given a burst of signed replies arriving
        statuses: dict[str, int] = {}
        gate = asyncio.Semaphore(8)

        async def send(activity) -> None:
            async with gate:
                try:
                    response = await peer.post(inbox, activity)
                    statuses[activity["id"]] = response.status_code
                except Exception:  # the connection dropped: not accepted
                    statuses[activity["id"]] = 0

        sending = [asyncio.create_task(send(a)) for a in replies[1:]]
        await wait_until(lambda: len(statuses) >= ACTIVITIES // 4, timeout=30)
        # When PostgreSQL restarts in the middle of it
        await asyncio.to_thread(private_postgres.restart)
        await asyncio.gather(*sending)
        # Then every reply answered 202 is handled, exactly once
        accepted = {replies[0]["id"]} | {i for i, s in statuses.items() if s == 202}
        await wait_until(lambda: _all_done(live, "inbox_items"), timeout=60, interval=0.1)
        notes = await live.store.fetch_all("SELECT uri FROM remote_notes")
        stored = Counter(f"{row['uri']}/activity" for row in notes)
    lost = len(accepted - set(stored))
    duplicates = sum(n - 1 for n in stored.values())
    refused = Counter(s for s in statuses.values() if s != 202)
    outcome = "survived" if lost == 0 and duplicates == 0 and 500 not in refused else "failed"
    record("faults", "PostgreSQL restart during an inbox burst", outcome, lost=lost,
           duplicates=duplicates, refused=dict(refused))  # fmt: skip
    assert lost == 0 and duplicates == 0
    assert 500 not in refused, refused
