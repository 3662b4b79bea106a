"""``/metrics`` of a ``fedi-town serve`` whose deliveries a separate ``fedi-town worker``
makes: with ``FEDI_TOWN_METRICS_DIR`` shared, the web process's scrape sums both processes,
so the worker's deliveries show where Prometheus looks."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fedi_town.store import outbox
from fedi_town.store.db import Store, now_ms
from tests.faults.conftest import FEDI_TOWN, _spawn, free_port, serve, serve_env, stop
from tests.live import wait_until
from tests.peer import TestPeer

# A separate worker process shares the queue only on PostgreSQL.
pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

TOKEN = "metrics-token-0123456789"
ROWS = 5


async def test_the_web_process_scrape_counts_the_worker_process_deliveries(database_url, tmp_path):
    metrics_dir = tmp_path / "metrics"
    env = serve_env(
        database_url,
        tmp_path,
        free_port(),
        FEDI_TOWN_WORKER="off",
        FEDI_TOWN_METRICS_TOKEN=TOKEN,
        FEDI_TOWN_METRICS_DIR=str(metrics_dir),
    )
    # A file left by a process long gone: serve clears it before it starts
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999999.db").write_bytes(b"")
    async with (
        TestPeer.running("alice") as peer,
        serve(env, tmp_path / "serve.log") as web,
    ):
        peer.verify_signatures = False
        assert not (metrics_dir / "counter_999999999.db").exists()
        made = await web.client.post(
            "/api/v1/businesses",
            json={"username": "bakery", "display_name": "Bakery"},
            headers=web.admin_headers(),
        )
        assert made.status_code == 201, made.text
        # Given a web process (its worker off) and a fedi-town worker sharing the directory
        worker, log = _spawn([str(FEDI_TOWN), "worker"], env, tmp_path / "worker.log")
        store = Store(database_url)
        await store.connect()
        try:
            # When deliveries are queued and the worker makes them
            actor = f"{web.base_url}/users/bakery"
            await outbox.enqueue(
                store,
                business_id=int(made.json()["id"]),
                body={"id": f"{actor}#m", "type": "Create", "actor": actor},
                inboxes=[f"{peer.base}/users/f{n}/inbox" for n in range(ROWS)],
                now=now_ms(),
            )

            async def all_done() -> bool:
                sql = "SELECT COUNT(*) FROM deliveries WHERE state = 'done'"
                return int(await store.fetch_val(sql)) == ROWS

            await wait_until(all_done, timeout=30, interval=0.1)
            answer = await web.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        finally:
            await store.disconnect()
            stop(worker)
            log.close()
    # Then the web process's scrape counts the worker's deliveries and its own requests
    assert answer.status_code == 200, answer.text
    assert TOKEN not in answer.text
    found = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }
    assert found[("fedi_town_deliveries_total", (("outcome", "delivered"),))] == ROWS
    created = (("method", "POST"), ("route", "/api/v1/businesses"), ("status", "201"))
    assert found[("fedi_town_http_requests_total", created)] == 1
    assert found[("fedi_town_queue_pending", (("queue", "deliveries"),))] == 0
