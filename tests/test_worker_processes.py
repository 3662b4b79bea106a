"""``fedi-town worker`` processes sharing one PostgreSQL queue: killed, restarted, doubled.

The web instance runs with its worker off; the deliveries are made by real ``fedi-town
worker`` subprocesses. A receiving peer on loopback holds each request briefly and counts
what arrives per inbox. A worker killed with SIGKILL keeps its leases until they expire;
the test expires them in the database (the dead process cannot act any more), as time
would, instead of waiting two minutes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from fedi_town.store import outbox
from fedi_town.store.db import now_ms
from tests.live import live_instance, wait_until
from tests.peer import Hang, TestPeer

# Several worker processes share a queue only on PostgreSQL (SQLite is one process), so
# these tests take the PostgreSQL database only, instead of generating a SQLite half to skip.
pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

ROWS = 200


@pytest.fixture
def postgres_url(database_url: str) -> str:
    return database_url


@contextmanager
def worker_process(live: Any, tmp_path: Path, name: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``fedi-town worker`` against the live instance's database and base URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDI_TOWN_")}
    env.update(
        FEDI_TOWN_BASE_URL=live.base_url,
        FEDI_TOWN_DATABASE_URL=live.settings.database_url,
        FEDI_TOWN_ADMIN_TOKEN=live.settings.admin_token,
        FEDI_TOWN_KEY_ENCRYPTION_KEYS=",".join(live.settings.key_encryption_keys),
        FEDI_TOWN_ALLOW_PRIVATE_ADDRESSES="true",
        FEDI_TOWN_MEDIA_DIR=str(tmp_path / "media"),
        FEDI_TOWN_LOG_LEVEL="WARNING",
    )
    log = open(tmp_path / f"{name}.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "fedi_town.cli", "worker"], env=env, stdout=log, stderr=log
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


async def fan_out(live: Any, peer: TestPeer) -> list[str]:
    """One activity for ``ROWS`` inboxes on the peer (one delivery row each)."""
    business = await live.create_business("bakery")
    actor = f"{live.base_url}/users/bakery"
    inboxes = [f"{peer.base}/users/f{n}/inbox" for n in range(ROWS)]
    await outbox.enqueue(
        live.store,
        business_id=int(business["id"]),
        body={"id": f"{actor}#fanout", "type": "Create", "actor": actor,
              "object": {"id": f"{actor}#note", "type": "Note"}},
        inboxes=inboxes,
        now=now_ms(),
    )  # fmt: skip
    return inboxes


def per_inbox(peer: TestPeer) -> Counter[str]:
    return Counter(r.path for r in peer.received if r.json.get("id", "").endswith("#fanout"))


async def all_done(live: Any) -> bool:
    done = await live.store.fetch_val("SELECT COUNT(*) FROM deliveries WHERE state = 'done'")
    return int(done) == ROWS


async def test_a_killed_worker_loses_nothing_once_restarted(postgres_url, tmp_path):
    async with (
        live_instance(postgres_url, tmp_path, worker="off") as live,
        TestPeer.running("alice") as peer,
    ):
        peer.verify_signatures = False  # 200 key fetches would only slow the test down
        peer.behave("*", [Hang(0.03)])
        inboxes = await fan_out(live, peer)
        # Given a worker in the middle of the fan-out
        with worker_process(live, tmp_path, "first") as first:
            await wait_until(lambda: len(peer.received) >= 40, timeout=30)
            # When it is killed hard
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        assert not await all_done(live)
        # and its leases run out (done here in the database instead of waiting)
        await live.store.execute(
            "UPDATE deliveries SET locked_until = NULL WHERE state = 'pending'"
        )
        # Then a restarted worker completes every delivery
        with worker_process(live, tmp_path, "second"):
            await wait_until(lambda: all_done(live), timeout=60)
        counts = per_inbox(peer)
        assert set(counts) == {i.removeprefix(peer.base) for i in inboxes}
        # at most the requests in flight at the kill were sent twice (at-least-once)
        assert sum(counts.values()) - ROWS <= 32


async def test_two_workers_share_one_queue_and_send_each_row_once(postgres_url, tmp_path):
    async with (
        live_instance(postgres_url, tmp_path, worker="off") as live,
        TestPeer.running("alice") as peer,
    ):
        peer.behave("*", [Hang(0.02)])
        # Given two worker processes running side by side
        with (
            worker_process(live, tmp_path, "one") as one,
            worker_process(live, tmp_path, "two") as two,
        ):
            await asyncio.sleep(1.5)  # both started and polling
            # When a fan-out is queued
            await fan_out(live, peer)
            await wait_until(lambda: all_done(live), timeout=60)
            assert one.poll() is None and two.poll() is None
        # Then every inbox got the activity exactly once, signed so that it verifies
        counts = per_inbox(peer)
        assert len(counts) == ROWS and set(counts.values()) == {1}
        assert all(r.verified for r in peer.received), {r.error for r in peer.received}
