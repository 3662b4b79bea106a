"""Web Push subscriptions of Mastodon apps, and the pushes waiting to be sent.

One subscription per access token (a new one replaces it, as Mastodon's); revoking the
token ends it (``of_token`` is always looked up by a live token). A new notification queues
one ``push_deliveries`` row per subscription of its business, in the notification's own
transaction (``queue_for``); the worker's ``mastodon/push.py`` checks alerts and policy,
encrypts and sends.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fedi_town.store.db import Row, Store, new_id
from fedi_town.store.effects import Wake
from fedi_town.store.queue import PUSHES


@dataclass(frozen=True)
class Subscription:
    id: int
    token_id: int
    business_id: int
    endpoint: str
    p256dh: str
    auth: str
    token_sealed: str
    alerts: dict[str, bool]
    policy: str
    standard: bool
    created_at: int


def _from_row(row: Row) -> Subscription:
    alerts = json.loads(str(row["alerts"]))
    return Subscription(
        id=int(row["id"]),
        token_id=int(row["token_id"]),
        business_id=int(row["business_id"]),
        endpoint=str(row["endpoint"]),
        p256dh=str(row["p256dh"]),
        auth=str(row["auth"]),
        token_sealed=str(row["token_sealed"]),
        alerts={str(k): bool(v) for k, v in alerts.items()},
        policy=str(row["policy"]),
        standard=bool(row["standard"]),
        created_at=int(row["created_at"]),
    )


_COLUMNS = (
    "id, token_id, business_id, endpoint, p256dh, auth, token_sealed, alerts, policy, "
    "standard, created_at"
)


async def replace(
    store: Store,
    *,
    token_id: int,
    business_id: int,
    endpoint: str,
    p256dh: str,
    auth: str,
    token_sealed: str,
    alerts: Mapping[str, bool],
    policy: str,
    standard: bool,
    now: int,
) -> Subscription:
    """The token's subscription, new (any earlier one of the token replaced)."""
    values: dict[str, Any] = {
        "id": new_id(now),
        "t": token_id,
        "b": business_id,
        "e": endpoint,
        "k": p256dh,
        "a": auth,
        "ts": token_sealed,
        "al": json.dumps(dict(alerts), sort_keys=True),
        "p": policy,
        "s": standard,
        "now": now,
    }
    async with store.transaction():
        await store.execute("DELETE FROM push_subscriptions WHERE token_id = :t", {"t": token_id})
        await store.execute(
            f"INSERT INTO push_subscriptions ({_COLUMNS}) "  # noqa: S608
            "VALUES (:id, :t, :b, :e, :k, :a, :ts, :al, :p, :s, :now)",
            values,
        )
    found = await of_token(store, token_id)
    assert found is not None
    return found


async def of_token(store: Store, token_id: int) -> Subscription | None:
    row = await store.fetch_one(
        f"SELECT {_COLUMNS} FROM push_subscriptions WHERE token_id = :t",  # noqa: S608
        {"t": token_id},
    )
    return _from_row(row) if row is not None else None


async def by_id(store: Store, subscription_id: int) -> Subscription | None:
    row = await store.fetch_one(
        f"SELECT {_COLUMNS} FROM push_subscriptions WHERE id = :id",  # noqa: S608
        {"id": subscription_id},
    )
    return _from_row(row) if row is not None else None


async def change(
    store: Store, token_id: int, *, alerts: Mapping[str, bool], policy: str
) -> Subscription | None:
    """Set the token's alerts and policy; None when it has no subscription."""
    await store.execute(
        "UPDATE push_subscriptions SET alerts = :al, policy = :p WHERE token_id = :t",
        {"al": json.dumps(dict(alerts), sort_keys=True), "p": policy, "t": token_id},
    )
    return await of_token(store, token_id)


async def remove(store: Store, *, token_id: int | None = None, id: int | None = None) -> None:
    """Remove a subscription by its token, or by its id (the push service said it is gone)."""
    if token_id is not None:
        await store.execute("DELETE FROM push_subscriptions WHERE token_id = :t", {"t": token_id})
    if id is not None:
        await store.execute("DELETE FROM push_subscriptions WHERE id = :id", {"id": id})


async def queue_for(store: Store, *, business_id: int, notification_id: int, now: int) -> None:
    """Queue a push of a new notification to each subscription of its business; call in
    the notification's transaction."""
    rows = await store.fetch_all(
        "SELECT id FROM push_subscriptions WHERE business_id = :b", {"b": business_id}
    )
    if not rows:
        return
    await store.execute_many(
        "INSERT INTO push_deliveries (id, subscription_id, notification_id, state, attempts, "
        "next_attempt_at, created_at) VALUES (:id, :s, :n, 'pending', 0, :now, :now)",
        [{"id": new_id(now), "s": int(r["id"]), "n": notification_id, "now": now} for r in rows],
    )
    store.after_commit(Wake(PUSHES))


async def prune(store: Store, *, before: int) -> int:
    """Delete finished or given-up pushes created before ``before`` (ms)."""
    return await store.write_count(
        "DELETE FROM push_deliveries WHERE state IN ('done', 'failed', 'cancelled') "
        "AND created_at < :before",
        {"before": before},
    )


async def sealed_tokens(store: Store) -> list[tuple[int, str]]:
    """(id, sealed token) of every subscription, for resealing (``keys_at_rest``)."""
    rows = await store.fetch_all("SELECT id, token_sealed FROM push_subscriptions ORDER BY id")
    return [(int(row["id"]), str(row["token_sealed"])) for row in rows]


async def replace_sealed_token(store: Store, subscription_id: int, old: str, new: str) -> None:
    """Store ``new`` as the subscription's sealed token if it still holds ``old``."""
    await store.execute(
        "UPDATE push_subscriptions SET token_sealed = :new WHERE id = :id AND token_sealed = :old",
        {"new": new, "id": subscription_id, "old": old},
    )
