"""A database that turns read-only under a running instance: writes answer 503 with
Retry-After (never 500), inbox deliveries included, reads go on, and once the database is
writable again everything works without a restart."""

from __future__ import annotations

import asyncpg
import pytest

from tests.faults.conftest import PrivatePostgres, instance, schema_url
from tests.live import LiveInstance, wait_until
from tests.peer import TestPeer
from tests.reliability import record

pytestmark = pytest.mark.anyio


async def _sqlite_read_only(live: LiveInstance, on: bool) -> None:
    # query_only makes SQLite refuse every write on the instance's writer connection with
    # SQLITE_READONLY, the error a read-only file gives.
    await live.store.write(f"PRAGMA query_only = {'ON' if on else 'OFF'}")


async def _postgres_read_only(cluster: PrivatePostgres, on: bool) -> None:
    admin = await asyncpg.connect(cluster.url)
    try:
        await admin.execute("SET default_transaction_read_only = off")
        if on:
            await admin.execute("ALTER SYSTEM SET default_transaction_read_only = on")
        else:
            await admin.execute("ALTER SYSTEM RESET default_transaction_read_only")
        await admin.execute("SELECT pg_reload_conf()")
    finally:
        await admin.close()


async def _check_read_only_round(live: LiveInstance, peer: TestPeer, switch, label: str):
    business = await live.create_business("bakery")
    owner = {"Authorization": f"Bearer {business['owner_token']}"}
    written = await live.client.post(
        "/api/v1/businesses/bakery/posts", json={"content": "Fresh rye"}, headers=owner
    )
    actor = f"{live.base_url}/users/bakery"
    post_uri = written.json()["uri"]
    inbox = f"{actor}/inbox"
    assert (await peer.post(inbox, peer.reply(post_uri, actor, "before"))).status_code == 202
    # Given the database turned read-only
    await switch(True)

    async def refused() -> int | None:
        response = await live.client.post(
            "/api/v1/businesses/bakery/posts", json={"content": "during"}, headers=owner
        )
        return response.status_code if response.status_code != 201 else None

    # When the owner posts and a peer delivers
    post_status = await wait_until(refused, timeout=10, interval=0.1)
    during = await live.client.post(
        "/api/v1/businesses/bakery/posts", json={"content": "during"}, headers=owner
    )
    delivered = await peer.post(inbox, peer.reply(post_uri, actor, "during"))
    read = await live.client.get(f"/api/v1/businesses/bakery/posts/{written.json()['id']}",
                                 headers=owner)  # fmt: skip
    # Then writes are refused with 503 and Retry-After; reads still work
    await switch(False)

    async def writes_again() -> bool:
        response = await live.client.post(
            "/api/v1/businesses/bakery/posts", json={"content": "after"}, headers=owner
        )
        return response.status_code == 201

    await wait_until(writes_again, timeout=15, interval=0.1)
    after = await peer.post(inbox, peer.reply(post_uri, actor, "after"))

    async def notes() -> int:
        return int(await live.store.fetch_val("SELECT COUNT(*) FROM remote_notes"))

    # the replies accepted before and after ("before", "after") are both handled
    handled = await wait_until(lambda: _at_least(notes, 2), timeout=15, interval=0.1)
    statuses = {post_status, during.status_code, delivered.status_code}
    record("faults", f"database read-only while running ({label})",
           "/".join(str(s) for s in sorted(statuses)), lost=2 - min(2, handled),
           duplicates=max(0, handled - 2))  # fmt: skip
    assert statuses == {503}, statuses
    assert during.headers.get("retry-after") and delivered.headers.get("retry-after")
    assert read.status_code == 200
    # And once writable again, posts and deliveries are accepted
    assert after.status_code == 202


async def _at_least(count, wanted: int) -> int:
    found: int = await count()
    return found if found >= wanted else 0


async def test_a_read_only_sqlite_database_is_a_503_until_it_is_writable(tmp_path):
    async with (
        instance(f"sqlite:///{tmp_path / 'town.sqlite3'}", tmp_path) as live,
        TestPeer.running("alice") as peer,
    ):

        async def switch(on: bool) -> None:
            await _sqlite_read_only(live, on)

        await _check_read_only_round(live, peer, switch, "SQLite")


async def test_a_read_only_postgresql_database_is_a_503_until_it_is_writable(
    private_postgres, tmp_path
):
    async with (
        instance(schema_url(private_postgres), tmp_path) as live,
        TestPeer.running("alice") as peer,
    ):

        async def switch(on: bool) -> None:
            await _postgres_read_only(private_postgres, on)

        try:
            await _check_read_only_round(live, peer, switch, "PostgreSQL")
        finally:
            await _postgres_read_only(private_postgres, False)
