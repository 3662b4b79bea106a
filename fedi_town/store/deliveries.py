"""Delivery rows beyond the generic queue: host health records, deferral, reach reports.

The circuit breaker is counted in memory, per process (``outbound.breaker``); ``remote_hosts``
hears only its transitions, so a healthy delivery writes nothing here:

- a host *goes bad*: ``save_open`` stores its failure count and ``open_until``, the next
  probe time. While it is open the host's rows are *deferred*: put back until
  ``open_until`` without counting an attempt.
- at probe time one row wins the probe (``take_probe``, a conditional UPDATE that moves
  ``open_until`` forward for every other process);
- a host *recovers*: ``save_closed`` resets it and wakes its deferred rows at once.

``troubled_hosts`` is how every process learns what the others wrote (one query for all
hosts, every few seconds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fedi_town.store import queue as q
from fedi_town.store.db import Row, Store

#: Consecutive trouble answers that open a host's breaker (Mastodon uses 10 per inbox).
THRESHOLD = 10
#: How long the breaker stays open the first time; doubled per further failure, capped.
OPEN_MS = 60_000
MAX_OPEN_MS = 3600_000
#: How long one probe may take before another row may probe again.
PROBE_MS = 60_000
#: ``last_error`` of rows waiting for their host's breaker to close.
HOST_UNAVAILABLE = "host unavailable"


@dataclass(frozen=True)
class HostState:
    """What we know about a host's health."""

    consecutive_failures: int
    open_until: int | None


async def host_state(store: Store, host: str) -> HostState:
    row = await store.fetch_one(
        "SELECT consecutive_failures, open_until FROM remote_hosts WHERE host = :h", {"h": host}
    )
    if row is None:
        return HostState(0, None)
    return HostState(int(row["consecutive_failures"]), row["open_until"])


async def troubled_hosts(store: Store) -> dict[str, HostState]:
    """Every host with recorded failures or an open breaker (healthy hosts are absent)."""
    rows = await store.fetch_all(
        "SELECT host, consecutive_failures, open_until FROM remote_hosts "
        "WHERE consecutive_failures > 0 OR open_until IS NOT NULL"
    )
    return {
        str(r["host"]): HostState(int(r["consecutive_failures"]), r["open_until"]) for r in rows
    }


async def take_probe(store: Store, host: str, open_until: int, now: int) -> bool:
    """At probe time, let exactly one caller through; the others see a later ``open_until``."""
    async with store.transaction():
        won = await store.fetch_val(
            "UPDATE remote_hosts SET open_until = :next WHERE host = :h AND open_until = :old "
            "RETURNING host",
            {"next": now + PROBE_MS, "h": host, "old": open_until},
        )
    return won is not None


def open_ms(failures: int) -> int:
    """How long the breaker stays open after ``failures`` consecutive failures."""
    delay: int = OPEN_MS * 2 ** max(0, min(failures - THRESHOLD, 10))
    return min(MAX_OPEN_MS, delay)


async def save_open(store: Store, host: str, failures: int, open_until: int, now: int) -> None:
    """The host went bad (or a probe failed): store its count and next probe time."""
    await store.execute(
        "INSERT INTO remote_hosts (host, consecutive_failures, open_until, last_failure_at) "
        "VALUES (:h, :n, :until, :now) ON CONFLICT (host) DO UPDATE SET "
        "consecutive_failures = :n, open_until = :until, last_failure_at = :now",
        {"h": host, "n": failures, "until": open_until, "now": now},
    )


async def save_closed(store: Store, host: str, now: int) -> bool:
    """The host answers again: reset it and wake its deferred rows. True if it was open."""
    async with store.transaction():
        previous = await store.fetch_one(
            "SELECT open_until FROM remote_hosts WHERE host = :h", {"h": host}
        )
        if previous is None:
            return False
        await store.execute(
            "UPDATE remote_hosts SET consecutive_failures = 0, open_until = NULL, "
            "last_success_at = :now WHERE host = :h",
            {"now": now, "h": host},
        )
        was_open = previous["open_until"] is not None
        if was_open:
            await store.execute(
                "UPDATE deliveries SET next_attempt_at = :now WHERE host = :h "
                "AND state = 'pending' AND last_error = :why AND next_attempt_at > :now",
                {"now": now, "h": host, "why": HOST_UNAVAILABLE},
            )
    return bool(was_open)


# -- what a post reached -----------------------------------------------------------------


async def of_post(store: Store, post_id: int) -> list[Row]:
    """Every delivery row of every activity about ``post_id``, oldest activity first."""
    return await store.fetch_all(
        "SELECT d.id, d.inbox, d.host, d.state, d.attempts, d.last_status, d.last_error, "
        "d.next_attempt_at, d.locked_until, d.done_at, a.type AS activity_type, "
        "a.uri AS activity_uri FROM deliveries d "
        "JOIN outgoing_activities a ON a.id = d.activity_id "
        "WHERE a.post_id = :p ORDER BY a.created_at, d.inbox",
        {"p": post_id},
    )


async def reached_inboxes(store: Store, post_id: int, types: Sequence[str]) -> list[str]:
    """Inboxes that may hold the post: its ``types`` deliveries that were sent (done) or at
    least attempted (an attempt that timed out may still have arrived)."""
    names = {f"t{i}": t for i, t in enumerate(types)}
    rows = await store.fetch_all(
        "SELECT DISTINCT d.inbox FROM deliveries d "  # noqa: S608
        "JOIN outgoing_activities a ON a.id = d.activity_id "
        f"WHERE a.post_id = :p AND a.type IN ({', '.join(':' + n for n in names)}) "
        "AND (d.state = 'done' OR d.attempts > 0) ORDER BY d.inbox",
        {"p": post_id, **names},
    )
    return [str(r["inbox"]) for r in rows]


async def audience_inboxes(store: Store, post_id: int) -> list[str]:
    """Every inbox any activity about ``post_id`` was addressed to (whatever its state)."""
    rows = await store.fetch_all(
        "SELECT DISTINCT d.inbox FROM deliveries d "
        "JOIN outgoing_activities a ON a.id = d.activity_id WHERE a.post_id = :p "
        "ORDER BY d.inbox",
        {"p": post_id},
    )
    return [str(r["inbox"]) for r in rows]


async def cancel_for_post(store: Store, post_id: int) -> None:
    """Cancel every pending delivery about ``post_id`` (it is being deleted)."""
    await q.cancel_where(
        store,
        q.DELIVERIES,
        "activity_id IN (SELECT id FROM outgoing_activities WHERE post_id = :p)",
        {"p": post_id},
    )
