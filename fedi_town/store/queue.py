"""One persisted work queue, used by every kind of background work (inbox items, deliveries).

A queue is a table whose rows carry ``state``, ``attempts``, ``next_attempt_at`` and
``locked_until``. The allowed transitions are declared here, once:

    pending --claim--> pending (leased: locked_until in the future, attempts + 1)
    pending --done---> done          the work succeeded
    pending --retry--> pending       back off: next_attempt_at later, lease dropped
    pending --fail---> failed        gave up for good
    pending --cancel-> cancelled     no longer wanted (e.g. the post was deleted first)
    pending --release> pending       shutdown: lease dropped, attempt not counted

A worker that dies keeps its lease until ``locked_until`` passes; then another worker claims
the row again, so nothing is lost. While a lease is live no other worker can claim the row:
on PostgreSQL the claim is one ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)``,
so any number of processes share a queue; on SQLite (one process) claims are serialised by
the store's write lock. ``done_many`` finishes many leased rows in one transaction (the
worker's batched finishing, ``worker.Finisher``).

Each queue declares here how it is worked: its lease, its retry policy for a handler that
raises (backoff, and the attempt cap after which it gives up) and ``delete_after``, how long
a finished or given-up row is kept before the worker's cleanup deletes it (the instance's
``FEDI_TOWN_RETENTION_DAYS`` overrides it for every queue). A handler returns an ``Outcome``
(``Done``, ``Retry``, ``GiveUp`` or ``Defer``) and the worker applies it (``apply``; ``Done``
goes through the worker's batch).

A claim cannot be poisoned by one row: a row whose text cannot be read (only SQLite can store
text that is not UTF-8) is failed by id in the claim's own transaction, with the reason logged,
and the other rows are handed out as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from fedi_town.store.db import Row, Store

log = logging.getLogger(__name__)

#: ``last_error`` of a row failed because its stored text cannot be read.
UNREADABLE = "unreadable row"

TERMINAL = frozenset({"done", "failed", "cancelled"})

#: state -> states it may move to. Everything that changes ``state`` checks against this.
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"pending", "done", "failed", "cancelled"}),
    "done": frozenset(),
    "failed": frozenset({"pending"}),  # an operator may retry a failed row
    "cancelled": frozenset(),
}


DAY_MS = 86_400_000
#: How long finished rows are kept unless a queue or the instance says otherwise (7 days).
DEFAULT_DELETE_AFTER_MS = 7 * DAY_MS


@dataclass(frozen=True)
class RetryPolicy:
    """What happens when a handler raises: try again after ``first_ms`` doubling up to
    ``most_ms``; after ``max_attempts`` (None: never) give up instead."""

    first_ms: int = 5_000
    most_ms: int = 3600_000
    max_attempts: int | None = None

    def delay_ms(self, attempts: int) -> int:
        """The wait after attempt number ``attempts`` raised."""
        return int(min(self.most_ms, self.first_ms * 2 ** min(attempts, 10)))


@dataclass(frozen=True)
class Queue:
    """A table that behaves as a queue, and how it is worked: ``order`` picks which due
    rows go first, ``lease_ms`` how long a claim lasts, ``retry`` what a raising handler
    gets, ``delete_after_ms`` how long a finished row is kept."""

    table: str
    order: str = "next_attempt_at, id"
    lease_ms: int = 120_000
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    delete_after_ms: int = DEFAULT_DELETE_AFTER_MS


#: Inbound activities. A handler that keeps raising gives up after 8 attempts.
INBOX = Queue("inbox_items", retry=RetryPolicy(max_attempts=8))
#: One row per (activity, inbox). A sent row's fate is ``outbound.retry.decide`` (a pure
#: function) carried by the handler's outcome; the policy here only covers a handler that
#: raises.
DELIVERIES = Queue("deliveries")
#: One row per (push subscription, notification): an encrypted Web Push to an app's push
#: service (``mastodon/push.py``). A notification is worth little a day late.
PUSHES = Queue(
    "push_deliveries",
    retry=RetryPolicy(first_ms=10_000, most_ms=3600_000, max_attempts=6),
    delete_after_ms=DAY_MS,
)
QUEUES = (INBOX, DELIVERIES, PUSHES)


@dataclass(frozen=True)
class Done:
    """The work succeeded; ``columns`` (e.g. last_status) are stored with the row."""

    columns: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Retry:
    """Try again at ``at`` (ms); the attempt stays counted."""

    at: int
    reason: str | None = None
    columns: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class GiveUp:
    """Stop for good, for ``reason``."""

    reason: str
    columns: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Defer:
    """Not now, and not the row's fault: back at ``until`` (ms), the attempt not counted."""

    until: int
    reason: str | None = None


Outcome = Done | Retry | GiveUp | Defer


def check_transition(old: str, new: str) -> None:
    """Raise ValueError for a state change the queue does not allow."""
    if new not in TRANSITIONS.get(old, frozenset()):
        raise ValueError(f"queue state {old!r} cannot become {new!r}")


async def claim(store: Store, queue: Queue, *, now: int, lease_ms: int, limit: int) -> list[Row]:
    """Lease up to ``limit`` due rows for ``lease_ms`` and return them (attempts counted)."""
    values = {"now": now, "until": now + lease_ms, "limit": limit}
    due = (
        f"SELECT id FROM {queue.table} WHERE state = 'pending' AND next_attempt_at <= :now "  # noqa: S608
        f"AND (locked_until IS NULL OR locked_until <= :now) ORDER BY {queue.order} "
        "LIMIT :limit"
    )
    if not store.is_sqlite:
        due += " FOR UPDATE SKIP LOCKED"
    sql = (
        f"UPDATE {queue.table} SET locked_until = :until, attempts = attempts + 1 "  # noqa: S608
        f"WHERE id IN ({due}) RETURNING *"
    )
    async with store.transaction():
        found = await store.fetch_all_checked(sql, values)
        rows = [row for row, readable in found if readable]
        for row, readable in found:
            if not readable:
                await _fail_unreadable(store, queue, int(row["id"]), now)
    return sorted(rows, key=lambda r: (r["next_attempt_at"], r["id"]))


async def _fail_unreadable(store: Store, queue: Queue, row_id: int, now: int) -> None:
    """Fail a claimed row whose text is not UTF-8: no handler could read it, and left
    pending it would come back at every lease."""
    check_transition("pending", "failed")
    log.error("%s row %d holds text that is not UTF-8; failed it", queue.table, row_id)
    await store.execute(
        f"UPDATE {queue.table} SET state = 'failed', locked_until = NULL, "  # noqa: S608
        "last_error = :error, done_at = :now WHERE id = :id",
        {"error": UNREADABLE, "now": now, "id": row_id},
    )


async def _finish(
    store: Store, queue: Queue, row_id: int, state: str, extra_sql: str, values: dict[str, object]
) -> bool:
    """Move a pending row to ``state``; False when it was not pending any more."""
    check_transition("pending", state)
    sql = (
        f"UPDATE {queue.table} SET state = :state, locked_until = NULL{extra_sql} "  # noqa: S608
        "WHERE id = :id AND state = 'pending' RETURNING id"
    )
    async with store.transaction():
        changed = await store.fetch_val(sql, {"state": state, "id": row_id, **values})
    return changed is not None


async def done(store: Store, queue: Queue, row_id: int, *, now: int, **columns: object) -> bool:
    """Mark a leased row done. Extra ``columns`` (e.g. last_status) are stored with it."""
    extra = "".join(f", {k} = :{k}" for k in columns) + ", done_at = :now"
    return await _finish(store, queue, row_id, "done", extra, {"now": now, **columns})


#: Most rows named in one ``done_many`` UPDATE (bound parameters stay well under limits).
DONE_MANY_CHUNK = 256


async def done_many(
    store: Store, queue: Queue, rows: Sequence[tuple[int, Mapping[str, object]]], *, now: int
) -> set[int]:
    """Mark many leased rows done in one transaction; return the ids that were pending.

    Each row comes with its extra ``columns`` (e.g. last_status); rows with the same values
    share one ``UPDATE … WHERE id IN (…)``, so a batch of successes is usually one statement.
    """
    check_transition("pending", "done")
    groups: dict[tuple[tuple[str, object], ...], list[int]] = {}
    for row_id, columns in rows:
        groups.setdefault(tuple(sorted(columns.items())), []).append(row_id)
    finished: set[int] = set()
    async with store.transaction():
        for key, ids in groups.items():
            columns = dict(key)
            extra = "".join(f", {k} = :{k}" for k in columns)
            for start in range(0, len(ids), DONE_MANY_CHUNK):
                chunk = ids[start : start + DONE_MANY_CHUNK]
                names = {f"id{n}": row_id for n, row_id in enumerate(chunk)}
                sql = (
                    f"UPDATE {queue.table} SET state = 'done', locked_until = NULL, "  # noqa: S608
                    f"done_at = :now{extra} WHERE state = 'pending' "
                    f"AND id IN ({', '.join(':' + n for n in names)}) RETURNING id"
                )
                changed = await store.fetch_all(sql, {"now": now, **columns, **names})
                finished.update(int(r["id"]) for r in changed)
    return finished


async def retry(
    store: Store, queue: Queue, row_id: int, *, next_attempt_at: int, **columns: object
) -> bool:
    """Put a row back to wait until ``next_attempt_at`` (its attempt stays counted)."""
    extra = "".join(f", {k} = :{k}" for k in columns) + ", next_attempt_at = :next"
    return await _finish(
        store, queue, row_id, "pending", extra, {"next": next_attempt_at, **columns}
    )


async def fail(store: Store, queue: Queue, row_id: int, *, now: int, **columns: object) -> bool:
    """Give up on a row for good."""
    extra = "".join(f", {k} = :{k}" for k in columns) + ", done_at = :now"
    return await _finish(store, queue, row_id, "failed", extra, {"now": now, **columns})


async def defer(
    store: Store, queue: Queue, row_id: int, *, until: int, last_error: str | None = None
) -> bool:
    """Put a leased row back until ``until`` without counting its attempt."""
    check_transition("pending", "pending")
    extra = ", last_error = :why" if last_error is not None else ""
    values: dict[str, object] = {"id": row_id, "until": until}
    if last_error is not None:
        values["why"] = last_error
    async with store.transaction():  # a write: on SQLite it takes the writer and its lock
        found = await store.fetch_val(
            f"UPDATE {queue.table} SET locked_until = NULL, next_attempt_at = :until, "  # noqa: S608
            f"attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END{extra} "
            "WHERE id = :id AND state = 'pending' RETURNING id",
            values,
        )
    return found is not None


async def apply(store: Store, queue: Queue, row_id: int, outcome: Outcome, *, now: int) -> bool:
    """Record a handler's ``outcome`` for a leased row; False when it was not pending."""
    if isinstance(outcome, Done):
        return await done(store, queue, row_id, now=now, **outcome.columns)
    if isinstance(outcome, Retry):
        error = {} if outcome.reason is None else {"last_error": outcome.reason}
        return await retry(
            store, queue, row_id, next_attempt_at=outcome.at, **outcome.columns, **error
        )
    if isinstance(outcome, GiveUp):
        return await fail(
            store, queue, row_id, now=now, **outcome.columns, last_error=outcome.reason
        )
    return await defer(store, queue, row_id, until=outcome.until, last_error=outcome.reason)


async def cancel_where(store: Store, queue: Queue, where: str, values: dict[str, object]) -> None:
    """Cancel pending rows matching ``where`` (an SQL condition written by store modules)."""
    await store.execute(
        f"UPDATE {queue.table} SET state = 'cancelled', locked_until = NULL "  # noqa: S608
        f"WHERE state = 'pending' AND ({where})",
        values,
    )


async def release(store: Store, queue: Queue, row_ids: list[int]) -> None:
    """Drop the lease of rows this worker will not finish (shutdown), uncounting the attempt."""
    async with store.transaction():
        for row_id in row_ids:
            await store.execute(
                f"UPDATE {queue.table} SET locked_until = NULL, attempts = attempts - 1 "  # noqa: S608
                "WHERE id = :id AND state = 'pending' AND attempts > 0",
                {"id": row_id},
            )


async def next_due(store: Store, queue: Queue) -> int | None:
    """When the earliest pending row becomes due (ms), or None when the queue is empty."""
    value = await store.fetch_val(
        f"SELECT MIN(CASE WHEN locked_until IS NOT NULL AND locked_until > next_attempt_at "  # noqa: S608
        f"THEN locked_until ELSE next_attempt_at END) FROM {queue.table} WHERE state = 'pending'",
        {},
    )
    return None if value is None else int(value)


async def counts(store: Store, queue: Queue) -> dict[str, int]:
    """Rows per state (for metrics and tests)."""
    rows = await store.fetch_all(
        f"SELECT state, COUNT(*) AS n FROM {queue.table} GROUP BY state"  # noqa: S608
    )
    return {str(r["state"]): int(r["n"]) for r in rows}


@dataclass(frozen=True)
class Backlog:
    """A queue's pending rows at one moment: how many, how many are due (their time has
    come, including rows being worked) and since when the oldest due one has been due (ms;
    None when none is)."""

    pending: int
    due: int
    oldest_due_at: int | None


async def backlog(store: Store, queue: Queue, *, now: int) -> Backlog:
    """The pending rows of ``queue`` at ``now``: one pass over the ``(state,
    next_attempt_at)`` index (the metrics read it at each scrape)."""
    row = await store.fetch_one(
        "SELECT COUNT(*) AS pending, "  # noqa: S608
        "COALESCE(SUM(CASE WHEN next_attempt_at <= :now THEN 1 ELSE 0 END), 0) AS due, "
        f"MIN(next_attempt_at) AS oldest FROM {queue.table} WHERE state = 'pending'",
        {"now": now},
    )
    if row is None:
        return Backlog(0, 0, None)
    oldest = row["oldest"]
    due_since = int(oldest) if oldest is not None and int(oldest) <= now else None
    return Backlog(int(row["pending"]), int(row["due"]), due_since)
