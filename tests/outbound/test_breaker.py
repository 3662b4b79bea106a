"""outbound.breaker: what a process knows of troubled hosts, and when it reads what other
processes stored (real SQLite and PostgreSQL through the ``store`` fixture).

The counting, opening and probing between two breakers are tested with the delivery handler
in tests/outbound/test_deliver.py."""

from __future__ import annotations

import pytest

from fedi_town.outbound.breaker import Breaker
from fedi_town.store import deliveries as delivery_store

pytestmark = pytest.mark.anyio

HOST = "down.example"
HEALTHY = delivery_store.HostState(0, None)


async def open_elsewhere(store, now: int) -> int:
    """Another process opened the breaker of HOST at ``now``; until when it is open."""
    open_until = now + delivery_store.OPEN_MS
    await delivery_store.save_open(store, HOST, delivery_store.THRESHOLD, open_until, now)
    return open_until


async def test_a_host_nobody_had_trouble_with_is_sent_to_and_not_remembered(store):
    # Given a new breaker
    breaker = Breaker()
    # When a row for a host it never heard of asks
    verdict = await breaker.verdict(store, "fine.example", 1_000)
    # Then it may send, and the host has no state at all
    assert verdict == "send"
    assert breaker.state("fine.example") == HEALTHY


async def test_another_processs_open_breaker_is_seen_only_once_the_refresh_is_due(store):
    # Given a breaker that read storage at 1000, refreshing every 5 seconds
    breaker = Breaker(refresh_ms=5_000)
    assert await breaker.verdict(store, HOST, 1_000) == "send"
    # When another process opens the host's breaker just after
    open_until = await open_elsewhere(store, 1_001)
    # Then this process still sends until its refresh is due, and waits from then on
    assert await breaker.verdict(store, HOST, 5_999) == "send"
    assert await breaker.verdict(store, HOST, 6_000) == open_until
    assert breaker.state(HOST) == delivery_store.HostState(delivery_store.THRESHOLD, open_until)


async def test_failures_below_the_threshold_survive_a_refresh_from_storage(store):
    # Given a host that failed here a few times, too few to tell storage
    breaker = Breaker(refresh_ms=5_000)
    for _ in range(3):
        await breaker.failed(store, HOST, 1_000)
    # When the breaker reads the other processes' transitions
    await breaker.refresh(store, 10_000, force=True)
    # Then its own count is kept, and the next failures add to it
    assert breaker.state(HOST) == delivery_store.HostState(3, None)
    assert await breaker.failed(store, HOST, 10_001) == delivery_store.HostState(4, None)


async def test_at_probe_time_a_host_another_process_saw_recover_is_sent_to_again(store):
    # Given a breaker that knows the host's breaker is open
    open_until = await open_elsewhere(store, 1_000)
    breaker = Breaker()
    await breaker.refresh(store, 1_000, force=True)
    # And another process probed it meanwhile, and it answered
    assert await delivery_store.take_probe(store, HOST, open_until, open_until + 1)
    assert await delivery_store.save_closed(store, HOST, open_until + 2) is True
    # When a row of this process asks at probe time
    verdict = await breaker.verdict(store, HOST, open_until + 3)
    # Then it sends, and the host is forgotten
    assert verdict == "send"
    assert breaker.state(HOST) == HEALTHY
