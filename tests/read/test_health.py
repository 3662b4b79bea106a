"""``/healthz`` and ``/readyz`` on both backends: ready when the database answers, is
migrated and a worker beats; otherwise 503 naming what is not ready. (PostgreSQL stopping
and coming back: tests/faults/test_readyz.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest

from fedi_town.read.health import (
    HEARTBEAT_FRESH_S,
    OK,
    migrations_verdict,
    worker_verdict,
)
from fedi_town.store import heartbeats
from fedi_town.store.migrations import LATEST_VERSION
from tests.live import wait_until

pytestmark = pytest.mark.anyio


async def _ready(client) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def test_healthz_says_ok_and_is_never_cached(app_client):
    # When a monitor asks whether the process is alive
    answer = await app_client.get("/healthz")
    # Then it is, and nothing keeps the answer
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}
    assert answer.headers["cache-control"] == "no-store"


async def test_a_running_instance_with_its_worker_is_ready(live):
    # Given a real server with its worker in process, when its heartbeat has been written
    await wait_until(lambda: _ready(live.client), timeout=10)
    # Then /readyz says so, check by check, and nothing keeps the answer
    answer = await live.client.get("/readyz")
    assert answer.json() == {
        "status": "ready",
        "checks": {"database": OK, "migrations": OK, "worker": OK},
    }
    assert answer.headers["cache-control"] == "no-store"


async def test_an_instance_whose_queue_no_worker_runs_is_not_ready(app_client):
    # Given an instance with FEDI_TOWN_WORKER=off and no fedi-town worker anywhere
    # When a load balancer asks whether it is ready
    answer = await app_client.get("/readyz")
    # Then it is not, and the answer names the worker and what to do
    assert answer.status_code == 503
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["status"] == "unready" and body["not_ready"] == ["worker"]
    assert body["checks"]["database"] == OK and body["checks"]["migrations"] == OK
    assert "fedi-town worker" in body["checks"]["worker"]


async def test_a_worker_in_another_process_makes_an_instance_without_its_own_ready(
    clocked_client, clock
):
    # Given an instance with its worker off, and a fedi-town worker elsewhere that just beat
    services = clocked_client.services
    await heartbeats.beat(services.store, "other-host:4242:ab", services.now_ms())
    # Then it is ready
    answer = await clocked_client.get("/readyz")
    assert answer.status_code == 200, answer.text


async def test_a_worker_silent_for_over_a_minute_makes_the_instance_unready(clocked_client, clock):
    # Given a worker that beat, then went silent past the freshness window
    services = clocked_client.services
    await heartbeats.beat(services.store, "other-host:4242:ab", services.now_ms())
    assert await _ready(clocked_client)
    clock.advance(timedelta(seconds=HEARTBEAT_FRESH_S + 5))
    # When asked again
    answer = await clocked_client.get("/readyz")
    # Then the (uncached) answer says how long the workers have been silent
    assert answer.status_code == 503
    assert answer.json()["not_ready"] == ["worker"]
    assert answer.json()["checks"]["worker"] == f"no worker heartbeat for {HEARTBEAT_FRESH_S + 5} s"


async def test_a_database_behind_the_code_makes_the_instance_unready(live):
    # Given a ready instance
    await wait_until(lambda: _ready(live.client), timeout=10)
    # When its database loses the record of the migrations from the heartbeats' on (as if
    # they were not applied)
    await live.store.execute(
        "DELETE FROM schema_migrations WHERE version >= :v", {"v": heartbeats.SINCE_VERSION}
    )
    # Then /readyz names the migrations and says what to run; the heartbeats, whose table
    # the database would not have, are not looked at
    answer = await live.client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["not_ready"] == ["migrations"]
    assert answer.json()["checks"] == {
        "database": OK,
        "migrations": (
            f"at version {heartbeats.SINCE_VERSION - 1} of {LATEST_VERSION}: run fedi-town migrate"
        ),
        "worker": "not checked: the database is not migrated",
    }


async def test_a_database_ahead_of_the_code_makes_the_instance_unready(live):
    # Given a ready instance whose database a newer fedi-town migrated further
    await wait_until(lambda: _ready(live.client), timeout=10)
    await live.store.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, 'newer', 0)",
        {"v": LATEST_VERSION + 1},
    )
    # Then /readyz is 503 and says this fedi-town is older than its database
    answer = await live.client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["not_ready"] == ["migrations"]
    assert "upgrade" in answer.json()["checks"]["migrations"]


@pytest.mark.parametrize(
    ("applied", "verdict"),
    [
        (8, OK),
        (7, "at version 7 of 8: run fedi-town migrate"),
        (0, "at version 0 of 8: run fedi-town migrate"),
        (9, "at version 9, newer than this fedi-town (8): upgrade it"),
    ],
)
def test_the_migrations_verdict(applied, verdict):
    assert migrations_verdict(applied, latest=8) == verdict


@pytest.mark.parametrize(
    ("last_beat_s_ago", "verdict"),
    [
        (0, OK),
        (HEARTBEAT_FRESH_S, OK),
        (HEARTBEAT_FRESH_S + 1, f"no worker heartbeat for {HEARTBEAT_FRESH_S + 1} s"),
        (None, "no worker has run: start fedi-town worker or set FEDI_TOWN_WORKER=in-process"),
    ],
)
def test_the_worker_verdict(last_beat_s_ago, verdict):
    now = 1_800_000_000_000
    last = None if last_beat_s_ago is None else now - last_beat_s_ago * 1000
    assert worker_verdict(last, now) == verdict
