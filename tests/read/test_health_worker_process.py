"""``/readyz`` of a web process whose worker is off (``FEDI_TOWN_WORKER=off``): ready while
a ``fedi-town worker`` process beats against the same PostgreSQL, unready once it stopped
(it removes its heartbeat at a clean stop)."""

from __future__ import annotations

import pytest

from tests.live import live_instance, wait_until
from tests.test_worker_processes import worker_process

# A separate worker process shares the database only on PostgreSQL.
pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


async def _status(live) -> int:
    return (await live.client.get("/readyz")).status_code


async def _ready(live) -> bool:
    return await _status(live) == 200


async def test_a_web_process_without_its_own_worker_is_ready_while_a_worker_process_runs(
    database_url, tmp_path
):
    async with live_instance(database_url, tmp_path, worker="off") as live:
        # Given a web process with its worker off: not ready, no worker anywhere
        answer = await live.client.get("/readyz")
        assert answer.status_code == 503 and answer.json()["not_ready"] == ["worker"]
        # When a fedi-town worker starts against the same database
        with worker_process(live, tmp_path, "worker") as process:
            # Then the web process becomes ready once the worker has beaten
            await wait_until(lambda: _ready(live), timeout=30, interval=0.1)
            assert process.poll() is None
        # When the worker stops, then the web process is no longer ready
        assert await _status(live) == 503
