"""SIGKILL of a real ``fedi-town serve`` in the middle of its work, then a restart.

Inbox: every activity answered 202 before the kill is handled after the restart, exactly
once in effect. Fan-out: every follower gets the post at least once; repeats are bounded by
what was in flight. A killed process keeps its leases until they expire (two minutes); the
tests expire them in the database, as time would, instead of waiting.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from fedi_town.store.db import Store
from tests.faults.conftest import free_port, serve, serve_env
from tests.live import wait_until
from tests.outbound.conftest import add_follower
from tests.peer import Hang, TestPeer
from tests.reliability import record

pytestmark = pytest.mark.anyio

ACTIVITIES = 120
FOLLOWERS = 150
#: Deliveries in flight at most (worker.DELIVERY_CONCURRENCY) plus those sent and
#: waiting for their batch's commit.
IN_FLIGHT = 128 + 64


@asynccontextmanager
async def _store(database_url: str) -> AsyncIterator[Store]:
    """The instance's database, opened by the test to look and to expire leases."""
    store = Store(database_url)
    await store.connect()
    try:
        yield store
    finally:
        await store.disconnect()


def _backend(database_url: str) -> str:
    return "SQLite" if database_url.startswith("sqlite") else "PostgreSQL"


async def _expire_leases(store: Store) -> None:
    """What two minutes would do after a kill: the dead process's leases run out."""
    for table in ("inbox_items", "deliveries"):
        await store.execute(f"UPDATE {table} SET locked_until = NULL WHERE state = 'pending'")


async def _all_done(store: Store, table: str) -> bool:
    left = await store.fetch_val(f"SELECT COUNT(*) FROM {table} WHERE state <> 'done'")
    return int(left) == 0


async def test_a_kill_during_an_inbox_burst_loses_no_accepted_activity(database_url, tmp_path):
    port = free_port()
    env = serve_env(database_url, tmp_path, port)
    async with TestPeer.running("alice") as peer:
        async with serve(env, tmp_path / "first.log") as first:
            business = (await first.client.post(
                "/api/v1/businesses", json={"username": "bakery", "display_name": "Bakery"},
                headers=first.admin_headers(),
            )).json()  # fmt: skip
            written = await first.client.post(
                "/api/v1/businesses/bakery/posts", json={"content": "Fresh rye today"},
                headers={"Authorization": f"Bearer {business['owner_token']}"},
            )  # fmt: skip
            actor = f"{first.base_url}/users/bakery"
            inbox = f"{actor}/inbox"
            replies = [peer.reply(written.json()["uri"], actor, f"r{n}") for n in range(ACTIVITIES)]
            assert (await peer.post(inbox, replies[0])).status_code == 202
            # Given a burst of signed replies arriving
            statuses: dict[str, int] = {}
            gate = asyncio.Semaphore(8)

            async def send(activity) -> None:
                async with gate:
                    try:
                        statuses[activity["id"]] = (await peer.post(inbox, activity)).status_code
                    except Exception:  # the server died under it: not accepted
                        statuses[activity["id"]] = 0

            sending = [asyncio.create_task(send(a)) for a in replies[1:]]
            await wait_until(lambda: len(statuses) >= ACTIVITIES // 3, timeout=30)
            # When the server is killed in the middle of it
            first.kill()
            await asyncio.gather(*sending)
        accepted = {replies[0]["id"]} | {i for i, s in statuses.items() if s == 202}
        # and restarted once its leases have run out
        async with _store(database_url) as store:
            await _expire_leases(store)
            async with serve(env, tmp_path / "second.log"):
                await wait_until(lambda: _all_done(store, "inbox_items"), timeout=60, interval=0.1)
            notes = await store.fetch_all(
                "SELECT n.uri, COUNT(x.id) AS seen FROM remote_notes n "
                "LEFT JOIN notifications x ON x.remote_note_id = n.id GROUP BY n.uri"
            )
    # Then every accepted reply is stored and notified once; nothing is there twice
    stored = {f"{row['uri']}/activity": int(row["seen"]) for row in notes}
    lost = len(accepted - set(stored))
    duplicates = sum(max(0, seen - 1) for seen in stored.values())
    record("faults", f"SIGKILL of serve during an inbox burst ({_backend(database_url)})",
           "survived" if lost == duplicates == 0 else "failed", lost=lost, duplicates=duplicates,
           accepted=len(accepted))  # fmt: skip
    assert lost == 0 and duplicates == 0
    assert len(accepted) > ACTIVITIES // 4


async def test_a_kill_during_fan_out_still_reaches_every_follower(database_url, tmp_path):
    port = free_port()
    env = serve_env(database_url, tmp_path, port)
    async with TestPeer.running("alice") as peer, _store(database_url) as store:
        peer.verify_signatures = False  # the sender is under test, not the signatures
        peer.behave("*", [Hang(0.02)])
        followers = [f"{peer.base}/users/f{n}" for n in range(FOLLOWERS)]
        async with serve(env, tmp_path / "first.log") as first:
            business = (await first.client.post(
                "/api/v1/businesses", json={"username": "bakery", "display_name": "Bakery"},
                headers=first.admin_headers(),
            )).json()  # fmt: skip
            for uri in followers:
                await add_follower(store, business["id"], uri)
            # Given a post on its way to every follower
            written = await first.client.post(
                "/api/v1/businesses/bakery/posts", json={"content": "Fresh rye today"},
                headers={"Authorization": f"Bearer {business['owner_token']}"},
            )  # fmt: skip
            assert written.status_code == 201, written.text
            await wait_until(lambda: len(peer.received) >= FOLLOWERS // 4, timeout=30)
            # When the server is killed in the middle of the fan-out
            first.kill()
        sent_before = len(peer.received)
        # and restarted once its leases have run out
        await _expire_leases(store)
        async with serve(env, tmp_path / "second.log"):
            await wait_until(lambda: _all_done(store, "deliveries"), timeout=60, interval=0.1)
    # Then every follower got the post, and repeats stay within what was in flight
    counts = Counter(r.path for r in peer.received if r.type == "Create")
    lost = sum(1 for uri in followers if counts[f"{uri.removeprefix(peer.base)}/inbox"] == 0)
    duplicates = sum(counts.values()) - len(counts)
    record("faults", f"SIGKILL of serve during fan-out ({_backend(database_url)})",
           "survived" if lost == 0 and duplicates <= IN_FLIGHT else "failed",
           lost=lost, duplicates=duplicates, sent_before_kill=sent_before)  # fmt: skip
    assert lost == 0
    assert duplicates <= IN_FLIGHT
