"""The delivery handler: one claimed ``deliveries`` row becomes one signed POST.

The activity body is stored once per activity and signed per inbox as the business that
sends it. The outcome goes through ``retry.decide``; nothing here retries by itself.
"""

from __future__ import annotations

import logging
import random

from fedi_town.outbound.retry import decide
from fedi_town.remote.signers import business_signer, instance_signer
from fedi_town.services import Services
from fedi_town.store import businesses, outbox
from fedi_town.store import queue as q
from fedi_town.store.db import Row, now_ms

log = logging.getLogger(__name__)


async def handle_delivery(services: Services, row: Row) -> None:
    """Send one delivery row and record what happened."""
    store = services.store
    row_id = int(row["id"])
    activity = await outbox.activity_for_delivery(store, int(row["activity_id"]))
    if activity is None:
        await q.fail(store, q.DELIVERIES, row_id, now=now_ms(), last_error="activity missing")
        return
    if activity["business_id"] is None:
        signer = instance_signer(services)
    else:
        business = await businesses.by_id(store, int(activity["business_id"]))
        if business is None:
            await q.fail(store, q.DELIVERIES, row_id, now=now_ms(), last_error="sender missing")
            return
        signer = business_signer(services, business)
    body = str(activity["body"]).encode()
    result = await services.remote.post_activity(str(row["inbox"]), body, signer=signer)
    now = now_ms()
    decision = decide(
        status=result.status,
        error=result.error,
        retry_after_s=result.retry_after,
        attempts=int(row["attempts"]),
        created_at=int(row["created_at"]),
        now=now,
        jitter=random.random(),
    )
    if decision.action == "done":
        await q.done(store, q.DELIVERIES, row_id, now=now, last_status=result.status)
    elif decision.action == "retry":
        assert decision.next_attempt_at is not None
        await q.retry(
            store,
            q.DELIVERIES,
            row_id,
            next_attempt_at=decision.next_attempt_at,
            last_status=result.status,
            last_error=decision.reason,
        )
    else:
        if decision.action == "gone":
            dropped = await outbox.mark_inbox_gone(store, str(row["inbox"]))
            log.info("%s answered 410: dropped %d follower(s)", row["host"], dropped)
        await q.fail(
            store,
            q.DELIVERIES,
            row_id,
            now=now,
            last_status=result.status,
            last_error=decision.reason,
        )
    log.info("delivery %d of %s to %s: %s", row_id, activity["type"], row["host"], decision.action)
