"""``GET /metrics`` on a live instance: scraped after real requests, a real signed inbox POST
and a real delivery, read back as Prometheus reads it (``text_string_to_metric_families``).

Each live instance counts in a registry of its own (``prometheus.Figures``), so the counts
a test reads are its own, whatever ran before in this process.
"""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fedi_town.metrics import MEDIA_TYPE
from fedi_town.read.metrics import queue_gauges
from fedi_town.store import outbox
from fedi_town.store.db import now_ms
from tests.live import live_instance, wait_until

pytestmark = pytest.mark.anyio

TOKEN = "metrics-token-0123456789"
PROBLEM = "application/problem+json"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by (name, sorted labels)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(scraped: dict[Any, float], name: str, **labels: str) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(live: Any) -> dict[Any, float]:
    answer = await live.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == MEDIA_TYPE
    assert answer.headers["cache-control"] == "no-store"
    assert TOKEN not in answer.text
    assert live.settings.admin_token not in answer.text
    return samples(answer.text)


async def test_metrics_are_not_found_when_no_token_is_set(live):
    # Given an instance without FEDI_TOWN_METRICS_TOKEN
    assert not live.services.metrics.on
    # When /metrics is asked for, with or without a token
    for headers in ({}, {"Authorization": f"Bearer {TOKEN}"}):
        answer = await live.client.get("/metrics", headers=headers)
        # Then there is no such page
        assert answer.status_code == 404
        assert answer.headers["content-type"] == PROBLEM


async def test_metrics_refuse_a_missing_or_wrong_token(database_url, tmp_path):
    async with live_instance(database_url, tmp_path, metrics_token=TOKEN) as live:
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token-0123456789"},
            {"Authorization": f"Bearer {TOKEN}x"},
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": TOKEN},
        ):
            answer = await live.client.get("/metrics", headers=headers)
            assert answer.status_code == 401, headers
            assert answer.headers["content-type"] == PROBLEM
            assert TOKEN not in answer.text
        # And the right one is let in
        await scrape(live)


async def test_a_scrape_counts_requests_by_route_template_inbox_verdicts_and_deliveries(
    database_url, tmp_path, peer
):
    async with live_instance(database_url, tmp_path, metrics_token=TOKEN) as live:
        await live.create_business("bakery")
        biz = live.urls.actor("bakery")
        # Given an actor fetched three times (the second and third from the kept answers)
        for _ in range(3):
            got = await live.client.get(
                "/users/bakery", headers={"Accept": "application/activity+json"}
            )
            assert got.status_code == 200
        # and a page nobody routes
        assert (await live.client.get("/no/such/page")).status_code == 404
        before = await scrape(live)
        # When alice's server posts her signed Follow (accepted, handled, Accept delivered)
        follow = peer.follow(biz)
        assert (await peer.post(live.urls.inbox("bakery"), follow)).status_code == 202
        await peer.wait_for(lambda r: r.type == "Accept")
        # and posts it again (a duplicate)
        assert (await peer.post(live.urls.inbox("bakery"), follow)).status_code == 202
        await wait_until(lambda: _delivered(live), timeout=10)
        scraped = await scrape(live)

    # Then requests are counted by route template, never by raw path
    actor = {"route": "/users/{username}", "method": "GET"}
    assert value(before, "fedi_town_http_requests_total", **actor, status="200") == 3
    assert value(before, "fedi_town_http_request_duration_seconds_count", **actor) == 3
    assert not any("/users/bakery" in dict(labels).get("route", "") for _, labels in scraped)
    assert value(before, "fedi_town_http_requests_total",
                 route="unmatched", method="GET", status="404") == 1  # fmt: skip
    # and the read cache answered the repeats
    assert value(before, "fedi_town_read_cache_lookups_total", result="hit") == 2
    inbox = {"route": "/users/{username}/inbox", "method": "POST", "status": "202"}
    assert value(scraped, "fedi_town_http_requests_total", **inbox) == 2
    # And the inbox counted each verdict by type
    assert value(scraped, "fedi_town_inbox_activities_total",
                 type="Follow", verdict="accepted") == 1  # fmt: skip
    assert value(scraped, "fedi_town_inbox_activities_total",
                 type="Follow", verdict="duplicate") == 1  # fmt: skip
    # And the worker's handling and the delivery of the Accept
    assert value(scraped, "fedi_town_inbox_handled_total", type="Follow", outcome="handled") == 1
    assert value(scraped, "fedi_town_deliveries_total", outcome="delivered") == 1
    # And where alice's key was found: fetched once, then from memory
    assert value(scraped, "fedi_town_key_cache_lookups_total", result="fetched") >= 1
    assert value(scraped, "fedi_town_key_cache_lookups_total", result="memory") >= 1
    # And the queues' backlog, read from the database at the scrape
    assert value(scraped, "fedi_town_database_up") == 1
    for queue in ("inbox_items", "deliveries"):
        assert value(scraped, "fedi_town_queue_pending", queue=queue) == 0
        assert value(scraped, "fedi_town_queue_oldest_due_age_seconds", queue=queue) == 0


async def _delivered(live: Any) -> bool:
    done = await live.store.fetch_val("SELECT COUNT(*) FROM deliveries WHERE state = 'done'")
    return int(done) >= 1


async def test_refused_signatures_are_counted_by_reason(database_url, tmp_path, peer):
    async with live_instance(database_url, tmp_path, metrics_token=TOKEN) as live:
        await live.create_business("bakery")
        follow = peer.follow(live.urls.actor("bakery"))

        def stale(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
            return {**headers, "Date": "Mon, 01 Jan 2001 00:00:00 GMT"}, body

        # When a Follow comes with a signature over a Date long gone
        answer = await peer.post(live.urls.inbox("bakery"), follow, tamper=stale)
        assert answer.status_code == 401
        # and the actor is fetched with a signature that does not parse
        garbled = {"Accept": "application/activity+json", "Signature": 'keyId="x"'}
        fetched = await live.client.get("/users/bakery", headers=garbled)
        assert fetched.status_code == 401
        scraped = await scrape(live)
    # Then each refusal is counted where it happened, with its reason (a class name)
    failures = {
        (dict(labels)["where"], dict(labels)["reason"]): count
        for (name, labels), count in scraped.items()
        if name == "fedi_town_signature_failures_total"
    }
    assert sorted(where for where, _ in failures) == ["fetch", "inbox"]
    assert all(reason.isidentifier() for _, reason in failures)
    assert sum(failures.values()) == 2
    # and the inbox's verdict
    assert value(scraped, "fedi_town_inbox_activities_total",
                 type="Follow", verdict="refused-signature") == 1  # fmt: skip


async def test_queue_gauges_say_how_many_rows_wait_and_since_when(database_url, tmp_path):
    async with live_instance(database_url, tmp_path, metrics_token=TOKEN, worker="off") as live:
        business = await live.create_business("bakery")
        actor = live.urls.actor("bakery")
        # Given two deliveries queued a minute ago and nobody working them
        await outbox.enqueue(
            live.store,
            business_id=int(business["id"]),
            body={"id": f"{actor}#a", "type": "Create", "actor": actor},
            inboxes=["https://a.example/inbox", "https://b.example/inbox"],
            now=now_ms() - 60_000,
        )
        # When the queues are read for a scrape
        gauges = {g.name: dict(g.samples) for g in await queue_gauges(live.services)}
    # Then both wait, both are due, the oldest for about a minute
    assert gauges["queue_pending"][("deliveries",)] == 2
    assert gauges["queue_due"][("deliveries",)] == 2
    assert 59 <= gauges["queue_oldest_due_age_seconds"][("deliveries",)] < 600
    assert gauges["queue_pending"][("inbox_items",)] == 0
    assert gauges["database_up"][()] == 1
