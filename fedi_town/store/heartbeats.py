"""Worker heartbeats: each running worker (in the web process or ``fedi-town worker``)
writes when it last beat, so ``/readyz`` of any web process can tell whether queued work is
being done, whichever process does it.

One row per worker id, upserted (one small write every ``worker.HEARTBEAT_EVERY_S``);
rows of workers gone for a day are deleted by the next beat of any worker.
"""

from __future__ import annotations

from fedi_town.store.db import Store

#: The migration that made the table.
SINCE_VERSION = 8
#: A worker that has not beaten for this long is forgotten (milliseconds).
FORGET_AFTER_MS = 24 * 3600 * 1000


async def beat(store: Store, worker_id: str, now: int) -> None:
    """Record that ``worker_id`` is alive at ``now`` (ms); forget long-gone workers."""
    async with store.transaction():
        await store.execute(
            """INSERT INTO worker_heartbeats (worker_id, beat_at) VALUES (:w, :now)
            ON CONFLICT (worker_id) DO UPDATE SET beat_at = :now""",
            {"w": worker_id, "now": now},
        )
        await store.execute(
            "DELETE FROM worker_heartbeats WHERE beat_at < :old",
            {"old": now - FORGET_AFTER_MS},
        )


async def forget(store: Store, worker_id: str) -> None:
    """Remove ``worker_id``'s row (a worker stopping cleanly)."""
    await store.execute("DELETE FROM worker_heartbeats WHERE worker_id = :w", {"w": worker_id})


async def last_beat(store: Store) -> int | None:
    """When any worker last beat (ms), or None if none ever did (or all were forgotten)."""
    value = await store.fetch_val("SELECT MAX(beat_at) FROM worker_heartbeats")
    return None if value is None else int(value)
