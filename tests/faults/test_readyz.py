"""``/readyz`` follows PostgreSQL: unready while the server is stopped, ready again once it
is back, with no restart of fedi-town; ``/healthz`` stays 200 throughout (a database outage
is no reason for a service manager to restart the web process).

PostgreSQL really stops here (``pg_ctl stop -m immediate``), on the fault suite's private
cluster (``private_postgres``), never the shared server.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from fedi_town.read.health import OK
from tests.faults.conftest import instance, schema_url
from tests.live import wait_until
from tests.reliability import record

pytestmark = pytest.mark.anyio


async def _readyz(live) -> tuple[int, dict]:
    answer = await live.client.get("/readyz")
    return answer.status_code, answer.json()


async def test_readyz_turns_unready_when_postgresql_stops_and_ready_when_it_returns(
    private_postgres, tmp_path
):
    async with instance(schema_url(private_postgres), tmp_path) as live:
        # Given a ready instance on PostgreSQL, its worker in process
        await wait_until(lambda: _status_is(live, 200), timeout=15)
        # When PostgreSQL stops
        await asyncio.to_thread(private_postgres.stop)
        stopped = time.monotonic()
        running = False
        try:
            # Then /readyz answers 503 naming the database, at once, and nothing else
            status, body = await _readyz(live)
            noticed_s = time.monotonic() - stopped
            assert status == 503
            assert body["not_ready"] == ["database"]
            assert body["checks"]["database"] == "unreachable"
            # and the process is still alive
            alive = await live.client.get("/healthz")
            assert alive.status_code == 200 and alive.json() == {"status": "ok"}
            # When PostgreSQL comes back
            await asyncio.to_thread(private_postgres.start)
            running = True
            back = time.monotonic()
            # Then /readyz is ready again by itself (the pool reconnects, the worker beats)
            await wait_until(lambda: _status_is(live, 200), timeout=30, interval=0.1)
            ready_after_s = time.monotonic() - back
            status, body = await _readyz(live)
            assert body["checks"] == {"database": OK, "migrations": OK, "worker": OK}
        finally:
            if not running:
                await asyncio.to_thread(private_postgres.start)
    record(
        "faults", "PostgreSQL stopped and started under /readyz", "survived",
        unready_noticed_s=round(noticed_s, 2), ready_again_s=round(ready_after_s, 2),
    )  # fmt: skip


async def _status_is(live, status: int) -> bool:
    return (await _readyz(live))[0] == status
