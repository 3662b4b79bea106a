"""The worker's heartbeat (what ``/readyz`` looks for): written as it starts and every
``HEARTBEAT_EVERY_S``, removed when it stops cleanly, on both backends."""

from __future__ import annotations

import os
import socket

import pytest

from fedi_town import worker
from fedi_town.read.health import HEARTBEAT_FRESH_S
from fedi_town.services import Services
from fedi_town.store import heartbeats
from fedi_town.store.db import Store
from tests.live import live_instance, wait_until

pytestmark = pytest.mark.anyio


async def test_a_running_worker_beats_under_its_host_and_process_and_forgets_itself_at_stop(
    database_url, tmp_path
):
    # Given an instance running its worker in process
    async with live_instance(database_url, tmp_path) as live:
        # When it has started, then its heartbeat row names this host and process
        await wait_until(lambda: heartbeats.last_beat(live.store), timeout=10)
        rows = await live.store.fetch_all("SELECT worker_id FROM worker_heartbeats")
        assert len(rows) == 1
        assert rows[0]["worker_id"].startswith(f"{socket.gethostname()}:{os.getpid()}:")
    # And once it stopped, the row is gone (readiness does not wait a minute to notice)
    store = Store(database_url)
    await store.connect()
    try:
        assert await heartbeats.last_beat(store) is None
    finally:
        await store.disconnect()


def test_a_worker_beats_several_times_within_the_window_readyz_allows():
    # Given the beat interval and the freshness /readyz wants, then one late beat is no outage
    assert worker.HEARTBEAT_EVERY_S * 3 < HEARTBEAT_FRESH_S


def test_the_heartbeat_is_one_of_the_workers_periodic_jobs(settings):
    # Given the worker built for an instance, when its periodic jobs are listed
    built = worker.build_worker(Services.from_settings(settings))
    jobs = {job.__name__: interval for interval, job in built.periodic}
    # Then the heartbeat is one, every HEARTBEAT_EVERY_S, and the worker removes it at stop
    assert jobs["beat"] == worker.HEARTBEAT_EVERY_S
    assert built.heartbeat is not None
