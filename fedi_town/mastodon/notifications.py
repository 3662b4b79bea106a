"""The business's notifications as a Mastodon app reads them (``read:notifications``):

    GET /api/v1/notifications        max_id, since_id, min_id, limit (≤ 80), types[],
                                     exclude_types[]; a Link header with next and prev
    GET /api/v1/notifications/{id}  404 for a dismissed one, or one of an account muted
                                     with its notifications (as the list leaves it out)
    GET /api/v2/notifications        the same, grouped as Mastodon 4.3 does (one per group)
    POST /api/v1/notifications/{id}/dismiss, POST /api/v1/notifications/clear
                                     write:notifications
    GET /api/v1/notifications/unread_count   newer than the notifications marker (≤ 1000);
                                     /api/v2/ the same (each notification its own group)

From the owner's own store (``store/notifications.py``): follows and follow requests,
mentions and replies (both Mastodon's ``mention``, with the note as the status), likes
(``favourite``) and boosts (``reblog``) with the business's post as the status. Reports are
the instance admin's and are left out.

Dismissing or clearing **marks** notifications (``dismissed_at``) rather than deleting them:
the Mastodon API stops showing them, but the owner app (the business's other people, the
admin) still lists them. A phone app's "clear all" is one person tidying their phone; it
should not erase what a colleague has not yet read in the web app.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import NotFound
from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import (
    NOTIFICATION_TYPES,
    business_account,
    iso,
    note_status,
    post_status,
    remote_account,
)
from fedi_town.mastodon.paging import link
from fedi_town.mastodon.reactions import mark
from fedi_town.protocol.ids import path_id, query_id, query_limit
from fedi_town.services import Services
from fedi_town.store import actors
from fedi_town.store import markers as marker_store
from fedi_town.store import notifications as notification_store
from fedi_town.store import posts as post_store
from fedi_town.store.businesses import Business
from fedi_town.store.db import Row

DEFAULT_LIMIT = 40
MAX_LIMIT = 80
UNREAD_LIMIT = 100
MAX_UNREAD = 1000


def _ours(mastodon_types: list[str]) -> list[str]:
    return [ours for ours, theirs in NOTIFICATION_TYPES.items() if theirs in mastodon_types]


def _types(wanted: list[str], excluded: list[str]) -> list[str]:
    """Our types a query's ``types[]`` (all when none) and ``exclude_types[]`` leave."""
    types = _ours(wanted) if wanted else list(NOTIFICATION_TYPES)
    return [t for t in types if t not in _ours(excluded)]


async def notification_row(
    services: Services, business: Business, wanted: int, *, muted_at: int | None = None
) -> Row | None:
    """The stored row of the business's notification ``wanted`` (None once dismissed, or
    of an account muted at ``muted_at``)."""
    rows = await notification_store.page(
        services.store,
        business.id,
        limit=1,
        max_id=wanted + 1,
        types=list(NOTIFICATION_TYPES),
        dismissed=False,
        muted_at=muted_at,
    )
    return rows[0] if rows and int(rows[0]["id"]) == wanted else None


async def notification(
    services: Services, business: Business, row: Row, account: dict[str, Any]
) -> dict[str, Any] | None:
    """The Notification for a stored row (None for one Mastodon has no word for)."""
    kind = NOTIFICATION_TYPES.get(str(row["type"]))
    if kind is None or row["a_id"] is None:
        return None
    sender = remote_account(services, actors.actor_from_row(row, "a_"))
    status = None
    if kind in ("favourite", "reblog") and row["post_id"] is not None:
        post = await post_store.by_id(services.store, business.id, int(row["post_id"]))
        if post is None:
            return None
        status = await post_status(services, business, post, account=account)
    elif kind == "mention" and row["remote_note_id"] is not None:
        note = {
            "id": row["remote_note_id"],
            "uri": row["note_uri"],
            "url": row["note_url"],
            "content_html": row["note_content"] or "",
            "summary": row["note_summary"],
            "visibility": row["note_visibility"] or "public",
            "published_at": row["note_published_at"] or row["created_at"],
            "edited_at": None,
            "poll": row["note_poll"],
        }
        status = note_status(services, note, sender)
    found: dict[str, Any] = {
        "id": str(row["id"]),
        "type": kind,
        "group_key": f"ungrouped-{row['id']}",
        "created_at": iso(int(row["created_at"])),
        "account": sender,
    }
    if status is not None:
        found["status"] = status
    return found


@endpoint("read:notifications")
async def list_notifications(request: Request, grant: Grant | None) -> Response:
    items, headers = await _page(request, grant, "/api/v1/notifications")
    return json(items, headers=headers)


@endpoint("read:notifications")
async def list_grouped(request: Request, grant: Grant | None) -> Response:
    """Mastodon 4.3's grouped notifications, each notification its own group (the app then
    shows them one by one, as with /api/v1/notifications)."""
    items, headers = await _page(request, grant, "/api/v2/notifications")
    accounts: dict[str, Any] = {}
    statuses: dict[str, Any] = {}
    groups = []
    for item in items:
        accounts[item["account"]["id"]] = item["account"]
        status = item.get("status")
        if status is not None:
            statuses[status["id"]] = status
        groups.append(
            {
                "group_key": item["group_key"],
                "notifications_count": 1,
                "type": item["type"],
                "most_recent_notification_id": item["id"],
                "page_min_id": item["id"],
                "page_max_id": item["id"],
                "latest_page_notification_at": item["created_at"],
                "sample_account_ids": [item["account"]["id"]],
                "status_id": status["id"] if status is not None else None,
            }
        )
    body = {
        "accounts": list(accounts.values()),
        "statuses": list(statuses.values()),
        "notification_groups": groups,
    }
    return json(body, headers=headers)


async def _page(
    request: Request, grant: Grant | None, path: str
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """A page of Notifications as the query asks, and its Link header."""
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    query = params.query(request)
    limit = query_limit(
        params.text(query, "limit") or None, default=DEFAULT_LIMIT, maximum=MAX_LIMIT
    )
    max_id = query_id(params.text(query, "max_id") or None, "max_id")
    since_id = query_id(params.text(query, "since_id") or None, "since_id")
    min_id = query_id(params.text(query, "min_id") or None, "min_id")
    wanted = params.strings(query, "types")
    excluded = params.strings(query, "exclude_types")
    types = _types(wanted, excluded)
    rows = []
    if types:
        rows = await notification_store.page(
            services.store,
            business.id,
            limit=limit,
            max_id=max_id,
            since_id=since_id,
            min_id=min_id,
            types=types,
            dismissed=False,
            muted_at=services.now_ms(),
        )
    account = await business_account(services, business)
    items = [n for r in rows if (n := await notification(services, business, r, account))]
    await mark(services, business, [n["status"] for n in items if n.get("status")])
    extra = [("types[]", t) for t in wanted] + [("exclude_types[]", t) for t in excluded]
    ids = [int(r["id"]) for r in rows]
    return items, link(services.settings.base_url, path, ids, limit, extra)


@endpoint("read:notifications")
async def get_one(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    wanted = path_id(str(request.path_params["id"]), "notification")
    row = await notification_row(services, business, wanted, muted_at=services.now_ms())
    found = None
    if row is not None:
        found = await notification(
            services, business, row, await business_account(services, business)
        )
    if found is None:
        raise NotFound("Record not found")
    return json(found)


@endpoint("write:notifications")
async def dismiss(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    wanted = path_id(str(request.path_params["id"]), "notification")
    if not await notification_store.dismiss(
        services.store, business.id, wanted, now=services.now_ms()
    ):
        raise NotFound("Record not found")
    return json({})


@endpoint("write:notifications")
async def clear(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    await notification_store.dismiss_all(services.store, business.id, now=services.now_ms())
    return json({})


@endpoint("read:notifications")
async def unread_count(request: Request, grant: Grant | None) -> Response:
    """Notifications newer than the business's ``notifications`` marker (Mastodon 4.3):
    ``limit`` (default 100, at most 1000), ``types[]``, ``exclude_types[]``."""
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    query = params.query(request)
    limit = query_limit(
        params.text(query, "limit") or None, default=UNREAD_LIMIT, maximum=MAX_UNREAD
    )
    types = _types(params.strings(query, "types"), params.strings(query, "exclude_types"))
    after = 0
    for marker in await marker_store.of_business(services.store, business.id, ["notifications"]):
        after = int(marker.last_read_id) if marker.last_read_id.isdigit() else 0
    count = 0
    if types:
        count = await notification_store.count_after(
            services.store, business.id, after, types, limit=limit, muted_at=services.now_ms()
        )
    return json({"count": count})


routes = [
    Route("/api/v1/notifications", list_notifications, methods=["GET"]),
    Route("/api/v1/notifications/unread_count", unread_count, methods=["GET"]),
    Route("/api/v2/notifications/unread_count", unread_count, methods=["GET"]),
    Route("/api/v1/notifications/clear", clear, methods=["POST"]),
    Route("/api/v1/notifications/{id}/dismiss", dismiss, methods=["POST"]),
    Route("/api/v1/notifications/{id}", get_one, methods=["GET"]),
    Route("/api/v2/notifications", list_grouped, methods=["GET"]),
]
