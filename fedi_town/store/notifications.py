"""Queries on notifications: what a business's owner is told about.

Each notification has a ``dedupe_key`` (UNIQUE) that names the fact it reports, so an
activity handled twice notifies once:

    follow:{follow id}              follow_request:{follow id}
    like:{actor id}:{post id}       announce:{actor id}:{post id}   (type like / boost)
    note:{note id}:{business id}    (type reply or mention)
    report:{report id}:{business id}
    quote:{stamp id}                (type quote: a granted quote of a post, with the quote)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fedi_town.store import push, stream_events
from fedi_town.store.actors import JOIN_COLUMNS
from fedi_town.store.db import Row, Store, new_id

TYPES = (
    "follow",
    "follow_request",
    "reply",
    "mention",
    "like",
    "boost",
    "report",
    "quote",
    "quote_request",
)


_INSERT = (
    "INSERT INTO notifications (id, business_id, type, actor_id, post_id, remote_note_id, "
    "report_id, dedupe_key, created_at) VALUES (:id, :b, :type, :a, :p, :n, :r, :k, :now) "
    "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
)
_SUBSCRIBED = "SELECT 1 AS pushes FROM push_subscriptions WHERE business_id = :b LIMIT 1"
#: PostgreSQL: the notification, its stream event and whether any app wants a push of it,
#: in one statement (the event is only written when the notification was).
_POSTGRES_CHAIN = (
    f"WITH n AS ({_INSERT}), "  # noqa: S608
    "e AS (INSERT INTO stream_events (id, business_id, event, ref_id, public, created_at) "
    "SELECT CAST(:event_id AS BIGINT), :b, 'notification', id, FALSE, :now FROM n) "
    f"SELECT id, EXISTS ({_SUBSCRIBED}) AS pushes FROM n"
)


async def notify(
    store: Store,
    *,
    business_id: int,
    type: str,
    dedupe_key: str,
    actor_id: int | None = None,
    post_id: int | None = None,
    remote_note_id: int | None = None,
    report_id: int | None = None,
    now: int,
) -> bool:
    """Add a notification unless one with ``dedupe_key`` exists; True if one was added
    (streaming apps hear of it, ``store.stream_events``; a push is queued to each app
    subscribed, ``store.push``).

    The notification, its stream event and the check for push subscriptions take one trip
    to the database (``Store.fetch_chain`` on SQLite, one statement on PostgreSQL): the
    inbox worker notifies for most activities it handles.
    """
    values, event = _rows(business_id, type, dedupe_key, actor_id, post_id, remote_note_id,
                          report_id, now)  # fmt: skip
    notification_id = values["id"]
    if store.is_sqlite:
        ran = await store.fetch_chain(
            [(_INSERT, values), (stream_events.INSERT, event), (_SUBSCRIBED, {"b": business_id})]
        )
        if not ran[0]:
            return False
        pushes = bool(ran[2])
    else:
        row = await store.fetch_one(_POSTGRES_CHAIN, {**values, "event_id": event["id"]})
        if row is None:
            return False
        pushes = bool(row["pushes"])
    await _notified(store, business_id, notification_id, pushes, now)
    return True


def _rows(
    business_id: int,
    type: str,
    dedupe_key: str,
    actor_id: int | None,
    post_id: int | None,
    remote_note_id: int | None,
    report_id: int | None,
    now: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new notification's values (for ``_INSERT`` and the PostgreSQL chains) and its
    stream event's row."""
    assert type in TYPES, type
    notification_id = new_id(now)
    values = {
        "id": notification_id,
        "b": business_id,
        "type": type,
        "a": actor_id,
        "p": post_id,
        "n": remote_note_id,
        "r": report_id,
        "k": dedupe_key,
        "now": now,
    }
    event = stream_events.row(
        event="notification", business_id=business_id, ref_id=notification_id, public=False,
        now=now,
    )  # fmt: skip
    return values, event


async def _notified(
    store: Store, business_id: int, notification_id: int, pushes: bool, now: int
) -> None:
    stream_events.recorded(store)
    if pushes:
        await push.queue_for(
            store, business_id=business_id, notification_id=notification_id, now=now
        )


#: SQLite: the stream event of notification ``:r``, only if that notification was written.
_EVENT_IF_NOTIFIED = (
    "INSERT INTO stream_events (id, business_id, event, ref_id, public, created_at) "
    "SELECT :id, :b, :e, :r, :p, :now WHERE EXISTS (SELECT 1 FROM notifications WHERE id = :r)"
)
#: PostgreSQL: ``f`` (a write returning a row when it wrote) is put in front of this; the
#: notification is written only when ``f`` wrote, and its stream event only when it was.
_POSTGRES_AFTER = (
    "n AS (INSERT INTO notifications (id, business_id, type, actor_id, post_id, "  # noqa: S608
    "remote_note_id, report_id, dedupe_key, created_at) SELECT CAST(:id AS BIGINT), "
    "CAST(:b AS BIGINT), CAST(:type AS TEXT), CAST(:a AS BIGINT), CAST(:p AS BIGINT), "
    "CAST(:n AS BIGINT), CAST(:r AS BIGINT), CAST(:k AS TEXT), CAST(:now AS BIGINT) "
    "FROM (SELECT 1 FROM f LIMIT 1) AS wrote "
    "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id), "
    "e AS (INSERT INTO stream_events (id, business_id, event, ref_id, public, created_at) "
    "SELECT CAST(:event_id AS BIGINT), :b, 'notification', id, FALSE, :now FROM n) "
    "SELECT EXISTS (SELECT 1 FROM f) AS wrote, EXISTS (SELECT 1 FROM n) AS notified, "
    f"EXISTS ({_SUBSCRIBED}) AS pushes"
)


async def notify_after(
    store: Store,
    write: tuple[str, Mapping[str, Any]],
    *,
    business_id: int,
    type: str,
    dedupe_key: str,
    actor_id: int | None = None,
    post_id: int | None = None,
    remote_note_id: int | None = None,
    now: int,
    first: tuple[str, Mapping[str, Any]] | None = None,
) -> bool:
    """Run ``write`` (one INSERT ... RETURNING, a row when it wrote) and, only when it
    wrote, ``notify``; True when ``write`` wrote.

    Both take one trip to the database (``Store.fetch_chain`` on SQLite, one statement on
    PostgreSQL): the inbox worker writes a like, a boost or a reply's target and tells the
    business of it in one go. ``write``'s values must not use the names ``notify``'s
    statement uses (``id``, ``b``, ``type``, ``a``, ``p``, ``n``, ``r``, ``k``, ``now``,
    ``e``, ``event_id``).

    ``first``, in the same trip, is a write ``write`` depends on (a new note before its
    target): nothing else runs unless it returned a row, and when it did, ``write`` must
    write too (SQLite runs the rest of the chain without asking). On PostgreSQL it is the
    ``WITH`` part ``w``, which ``write`` must select from. Its names must not clash either.
    """
    sql, given = write
    values, event = _rows(business_id, type, dedupe_key, actor_id, post_id, remote_note_id,
                          None, now)  # fmt: skip
    notification_id = values["id"]
    if store.is_sqlite:
        before = [] if first is None else [first]
        ran = await store.fetch_chain(
            [
                *before,
                (sql, given),
                (_INSERT, values),
                (_EVENT_IF_NOTIFIED, event),
                (_SUBSCRIBED, {"b": business_id}),
            ]
        )
        ran = ran[len(before) :]
        if not ran or not ran[0]:
            return False
        notified, pushes = bool(ran[1]), bool(ran[3])
    else:
        head, head_values = ("", {}) if first is None else (f"w AS ({first[0]}), ", first[1])
        row = await store.fetch_one(
            f"WITH {head}f AS ({sql}), {_POSTGRES_AFTER}",
            {**head_values, **given, **values, "event_id": event["id"]},
        )
        assert row is not None
        if not row["wrote"]:
            return False
        notified, pushes = bool(row["notified"]), bool(row["pushes"])
    if notified:
        await _notified(store, business_id, notification_id, pushes, now)
    return True


async def delete_by_key(store: Store, dedupe_key: str) -> None:
    await store.execute("DELETE FROM notifications WHERE dedupe_key = :k", {"k": dedupe_key})


async def page(
    store: Store,
    business_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    types: Sequence[str] = (),
    since_id: int | None = None,
    min_id: int | None = None,
    dismissed: bool = True,
    muted_at: int | None = None,
) -> list[Row]:
    """A page of notifications, newest first, joined with actor, post, note and report.

    ``max_id``: older than it; ``since_id``: newer than it (the newest ``limit``);
    ``min_id``: newer than it, the ``limit`` right after it (Mastodon's paging words).
    ``dismissed=False`` leaves out what a Mastodon app dismissed (the owner app shows all);
    ``muted_at`` (now) leaves out those of accounts muted with notifications.
    Actor columns come prefixed ``a_`` (``store.actors.actor_from_row(row, "a_")``).
    """
    values: dict[str, Any] = {"b": business_id, "limit": limit}
    sql = (
        f"SELECT n.id, n.type, n.created_at, n.read_at, n.post_id, n.report_id, "  # noqa: S608
        f"n.remote_note_id, {JOIN_COLUMNS}, "
        "p.uri AS post_uri, r.uri AS note_uri, r.content_html AS note_content, "
        "r.url AS note_url, r.summary AS note_summary, r.visibility AS note_visibility, "
        "r.published_at AS note_published_at, r.poll AS note_poll, r.emojis AS note_emojis, "
        "r.attachments AS note_attachments, rep.content AS report_content, "
        "rep.object_uris AS report_objects, rep.actor_uri AS report_actor, "
        "rep.created_at AS report_created_at, i.reaction, i.reaction_url "
        "FROM notifications n "
        "LEFT JOIN remote_actors a ON a.id = n.actor_id "
        "LEFT JOIN posts p ON p.id = n.post_id "
        "LEFT JOIN remote_notes r ON r.id = n.remote_note_id "
        "LEFT JOIN reports rep ON rep.id = n.report_id "
        "LEFT JOIN interactions i ON n.type = 'like' AND i.kind = 'like' "
        "AND i.actor_id = n.actor_id AND i.post_id = n.post_id "
        "WHERE n.business_id = :b"
    )
    if not dismissed:
        sql += " AND n.dismissed_at IS NULL"
    if muted_at is not None:
        sql += f" AND NOT EXISTS ({_MUTED.format(n='n')})"
        values["now"] = muted_at
    if max_id is not None:
        sql += " AND n.id < :max"
        values["max"] = max_id
    if types:
        names = []
        for i, kind in enumerate(types):
            names.append(f":t{i}")
            values[f"t{i}"] = kind
        sql += f" AND n.type IN ({', '.join(names)})"
    for name, value in (("since", since_id), ("min", min_id)):
        if value is not None:
            sql += f" AND n.id > :{name}"
            values[name] = value
    if min_id is not None:
        rows = await store.fetch_all(sql + " ORDER BY n.id ASC LIMIT :limit", values)
        return list(reversed(rows))
    sql += " ORDER BY n.id DESC LIMIT :limit"
    return await store.fetch_all(sql, values)


async def dismiss(store: Store, business_id: int, notification_id: int, *, now: int) -> bool:
    """Hide one notification from the Mastodon API; False when the business has none such."""
    row = await store.fetch_one(
        "UPDATE notifications SET dismissed_at = COALESCE(dismissed_at, :now) "
        "WHERE id = :id AND business_id = :b RETURNING id",
        {"id": notification_id, "b": business_id, "now": now},
    )
    return row is not None


async def dismiss_all(store: Store, business_id: int, *, now: int) -> None:
    """Hide every notification of the business from the Mastodon API (``clear``)."""
    await store.execute(
        "UPDATE notifications SET dismissed_at = :now "
        "WHERE business_id = :b AND dismissed_at IS NULL",
        {"b": business_id, "now": now},
    )


#: A live mute, with notifications, of the sender of notification ``{n}``.
_MUTED = (
    "SELECT 1 FROM mutes m WHERE m.business_id = {n}.business_id "
    "AND m.actor_id = {n}.actor_id AND m.notifications "
    "AND (m.expires_at IS NULL OR m.expires_at > :now)"
)


async def count_after(
    store: Store,
    business_id: int,
    after_id: int,
    types: Sequence[str],
    *,
    limit: int,
    muted_at: int | None = None,
) -> int:
    """How many not-dismissed notifications of ``types`` are newer than ``after_id``,
    counting at most ``limit`` (Mastodon's unread count); ``muted_at`` as ``page``."""
    values: dict[str, Any] = {"b": business_id, "after": after_id, "limit": limit}
    names = []
    for i, kind in enumerate(types):
        names.append(f":t{i}")
        values[f"t{i}"] = kind
    muted = ""
    if muted_at is not None:
        muted = f" AND NOT EXISTS ({_MUTED.format(n='x')})"
        values["now"] = muted_at
    inner = (
        "SELECT x.id FROM notifications x WHERE x.business_id = :b AND x.id > :after "  # noqa: S608
        f"AND x.dismissed_at IS NULL AND x.type IN ({', '.join(names)}){muted} LIMIT :limit"
    )
    return int(await store.fetch_val(f"SELECT COUNT(*) FROM ({inner}) AS unread", values) or 0)  # noqa: S608
