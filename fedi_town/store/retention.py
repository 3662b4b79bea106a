"""How long finished work is kept: the cleanup of old rows the worker runs, and the inbox
backlog count.

Queue rows that are finished stay as a record for their queue's ``delete_after_ms``
(``store.queue``; ``FEDI_TOWN_RETENTION_DAYS`` overrides it for every queue), then go:

    inbox_items           done, failed or cancelled, finished before the cutoff: deleted.
                          A done item's body is emptied at the first sweep after it is
                          finished: nothing reads it again (done is final), and an ignored
                          activity's body may be large. A failed item keeps its body until
                          the cutoff, for an operator who retries it.
    deliveries            done, failed or cancelled before the cutoff: deleted, except the
                          rows of a post that still exists: they are the record of which
                          inboxes hold it, where its edits and its Delete go (commands.py).
    outgoing_activities   older than the deliveries' cutoff, with no delivery row left and
                          not about a post that still exists: deleted.
    timeline              home timeline entries older than ``FEDI_TOWN_TIMELINE_DAYS``
                          (default 30): deleted.
    remote_notes          notes stored before that cutoff that nothing shows any more (no
                          timeline entry, not a reply to or mention of a business, no
                          notification): deleted.

Pending rows are never touched. Deleting an inbox item ends its dedupe: the same activity
delivered again after ``delete_after`` is taken as new (senders stop retrying long before).

Every statement handles at most ``BATCH`` rows and commits on its own, with a pause between
batches, so a big table never holds SQLite's one write lock for long and the inbox's group
commits go between them. The rows are walked in index order, each batch starting after the
last one's key, so a sweep reads each row once. A finished row's ``next_attempt_at`` is
never after it was finished, so ``next_attempt_at < cutoff`` (redundant with the rule) lets
the walk use the queue's ``(state, next_attempt_at, id)`` index instead of the whole table.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from fedi_town.store.db import Store
from fedi_town.store.queue import DAY_MS, DELIVERIES, INBOX, TERMINAL, Queue

log = logging.getLogger(__name__)

#: Rows one statement deletes or updates at most.
BATCH = 1_000
#: Pause between two batches (seconds): the inboxes' commits go in between.
BATCH_PAUSE_S = 0.05
#: How often the worker sweeps (seconds).
EVERY_S = 300.0

_TERMINAL = tuple(sorted(TERMINAL))
_FIRST = (-(2**62), -(2**62))

#: (the rows to change, in index order after (:at, :id); the change, which checks again what
#: may have changed meanwhile)
_DONE_BODIES = (
    "SELECT id, next_attempt_at AS k FROM inbox_items WHERE state = 'done' "
    "AND next_attempt_at >= :since AND (next_attempt_at, id) > (:at, :id) AND body <> '' "
    "ORDER BY next_attempt_at, id LIMIT :batch",
    "UPDATE inbox_items SET body = '' WHERE id IN ({ids}) AND state = 'done' AND body <> ''",
)
_OLD_ITEMS = (
    "SELECT id, next_attempt_at AS k FROM inbox_items WHERE state = :state "
    "AND next_attempt_at < :cutoff AND (next_attempt_at, id) > (:at, :id) "
    "ORDER BY next_attempt_at, id LIMIT :batch",
    "DELETE FROM inbox_items WHERE id IN ({ids}) "
    "AND state IN ('cancelled', 'done', 'failed') AND COALESCE(done_at, created_at) < :cutoff",
)
_OLD_DELIVERIES = (
    "SELECT id, next_attempt_at AS k FROM deliveries d WHERE state = :state "
    "AND next_attempt_at < :cutoff AND (next_attempt_at, id) > (:at, :id) "
    "AND NOT EXISTS (SELECT 1 FROM outgoing_activities a JOIN posts p ON p.id = a.post_id "
    "WHERE a.id = d.activity_id AND p.deleted_at IS NULL) "
    "ORDER BY next_attempt_at, id LIMIT :batch",
    "DELETE FROM deliveries WHERE id IN ({ids}) "
    "AND state IN ('cancelled', 'done', 'failed') AND COALESCE(done_at, created_at) < :cutoff "
    "AND NOT EXISTS (SELECT 1 FROM outgoing_activities a JOIN posts p ON p.id = a.post_id "
    "WHERE a.id = deliveries.activity_id AND p.deleted_at IS NULL)",
)
_OLD_ACTIVITIES = (
    "SELECT id, id AS k FROM outgoing_activities a WHERE (id, id) > (:at, :id) "
    "AND created_at < :cutoff "
    "AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.activity_id = a.id) "
    "AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.id = a.post_id AND p.deleted_at IS NULL) "
    "ORDER BY id LIMIT :batch",
    "DELETE FROM outgoing_activities WHERE id IN ({ids}) AND created_at < :cutoff "
    "AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.activity_id = outgoing_activities.id) "
    "AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.id = outgoing_activities.post_id "
    "AND p.deleted_at IS NULL)",
)


_OLD_TIMELINE = (
    "SELECT id, created_at AS k FROM timeline WHERE created_at < :cutoff "
    "AND (created_at, id) > (:at, :id) ORDER BY created_at, id LIMIT :batch",
    "DELETE FROM timeline WHERE id IN ({ids}) AND created_at < :cutoff",
)
_UNSHOWN = (
    "NOT EXISTS (SELECT 1 FROM timeline t WHERE t.note_id = {n}.id) "
    "AND NOT EXISTS (SELECT 1 FROM remote_note_targets r WHERE r.note_id = {n}.id) "
    "AND NOT EXISTS (SELECT 1 FROM notifications x WHERE x.remote_note_id = {n}.id)"
)
_UNSHOWN_NOTES = (
    "SELECT id, id AS k FROM remote_notes n WHERE (id, id) > (:at, :id) "  # noqa: S608
    f"AND created_at < :cutoff AND {_UNSHOWN.format(n='n')} ORDER BY id LIMIT :batch",
    "DELETE FROM remote_notes WHERE id IN ({ids}) AND created_at < :cutoff AND "  # noqa: S608
    + _UNSHOWN.format(n="remote_notes"),
)


@dataclass(frozen=True)
class Swept:
    """What one sweep removed (rows) and emptied (inbox bodies)."""

    inbox_items: int
    deliveries: int
    activities: int
    bodies_emptied: int
    timeline: int = 0
    notes: int = 0


async def _walk(store: Store, statements: tuple[str, str], values: dict[str, object]) -> int:
    """Walk the rows the first statement picks, ``BATCH`` at a time in index order (each
    batch starts where the last ended, so no row is read twice), applying the second to
    each batch in its own short transaction; how many rows it changed."""
    pick, change = statements
    after = _FIRST
    total = 0
    while True:
        rows = await store.fetch_all(
            pick, {**values, "at": after[0], "id": after[1], "batch": BATCH}
        )
        if not rows:
            return total
        after = (int(rows[-1]["k"]), int(rows[-1]["id"]))
        names = {f"i{n}": int(row["id"]) for n, row in enumerate(rows)}
        sql = change.format(ids=", ".join(f":{name}" for name in names))
        used = {k: v for k, v in values.items() if f":{k}" in sql}
        total += await store.write_count(sql, {**used, **names})
        if len(rows) < BATCH:
            return total
        await asyncio.sleep(BATCH_PAUSE_S)


def cutoff(queue: Queue, now: int, keep_days: int | None = None) -> int:
    """Finished rows of ``queue`` before this time (ms) go: after its ``delete_after_ms``,
    or ``keep_days`` when the instance sets it."""
    keep = queue.delete_after_ms if keep_days is None else keep_days * DAY_MS
    return now - keep


async def sweep(
    store: Store,
    *,
    now: int,
    keep_days: int | None = None,
    bodies_since: int = 0,
    timeline_days: int = 30,
) -> Swept:
    """Delete finished rows older than their queue's ``delete_after_ms`` (``keep_days``
    for every queue when given); empty the bodies of inbox items done with
    ``next_attempt_at >= bodies_since`` (0: all of them); delete timeline entries older
    than ``timeline_days`` and the notes nothing shows any more."""
    items_cutoff = cutoff(INBOX, now, keep_days)
    deliveries_cutoff = cutoff(DELIVERIES, now, keep_days)
    items = deliveries = 0
    for state in _TERMINAL:
        items += await _walk(store, _OLD_ITEMS, {"state": state, "cutoff": items_cutoff})
        values: dict[str, object] = {"state": state, "cutoff": deliveries_cutoff}
        deliveries += await _walk(store, _OLD_DELIVERIES, values)
    bodies = await _walk(store, _DONE_BODIES, {"since": bodies_since})
    activities = await _walk(store, _OLD_ACTIVITIES, {"cutoff": deliveries_cutoff})
    timeline_cutoff = now - timeline_days * DAY_MS
    timeline = await _walk(store, _OLD_TIMELINE, {"cutoff": timeline_cutoff})
    notes = await _walk(store, _UNSHOWN_NOTES, {"cutoff": timeline_cutoff})
    return Swept(items, deliveries, activities, bodies, timeline, notes)


async def count_pending(store: Store, queue: Queue = INBOX) -> int:
    """How many rows of ``queue`` wait (one COUNT over its state index)."""
    value = await store.fetch_val(
        f"SELECT COUNT(*) FROM {queue.table} WHERE state = 'pending'",  # noqa: S608
        {},
    )
    return int(value or 0)
