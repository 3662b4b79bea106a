"""JSON shapes of the owner API's inbound side: accounts, notifications, follows, blocks,
reports; and the query parameters they page with."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from starlette.requests import Request

from fedi_town.errors import BadRequest
from fedi_town.protocol.ids import query_id, query_limit
from fedi_town.protocol.vocabulary import iso8601
from fedi_town.read import note_view
from fedi_town.store.actors import RemoteActor, actor_from_row
from fedi_town.store.db import Row
from fedi_town.store.following import Following
from fedi_town.store.given import ANNOUNCE, LIKE
from fedi_town.store.moderation import Block, Report
from fedi_town.store.notifications import TYPES
from fedi_town.store.social import Follow
from fedi_town.store.timeline import Entry
from fedi_town.text.emoji import emojify

DEFAULT_LIMIT = 20
MAX_LIMIT = 80


def page_params(request: Request) -> tuple[int, int | None]:
    """``limit`` (1..80, default 20) and ``max_id`` (exclusive) from the query string."""
    params = request.query_params
    limit = query_limit(params.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    return limit, query_id(params.get("max_id"), "max_id")


def type_filter(request: Request) -> list[str]:
    """``types=follow,like`` (or ``types`` repeated): the notification types wanted."""
    wanted: list[str] = []
    for value in request.query_params.getlist("types") + request.query_params.getlist("types[]"):
        wanted += [t.strip() for t in value.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in TYPES]
    if unknown:
        raise BadRequest(f"unknown notification type {unknown[0]!r}; use {', '.join(TYPES)}")
    return list(dict.fromkeys(wanted))


def next_max_id(items: list[dict[str, Any]], limit: int) -> str | None:
    return items[-1]["id"] if len(items) == limit and items else None


def account_name(actor: RemoteActor) -> str:
    """The name ``account`` shows for someone (their display name, else username, else id)."""
    return actor.display_name or actor.username or actor.uri


def account(actor: RemoteActor) -> dict[str, Any]:
    """Someone elsewhere; ``display_name_html`` is the name escaped, with each custom emoji
    the cache holds as its picture (served here, ``:code:`` as alt text), the others as text."""
    name = account_name(actor)
    emojis = actor.name_emojis()
    return {
        "id": actor.uri,
        "handle": actor.handle,
        "display_name": name,
        "display_name_html": emojify(escape(name), emojis),
        "emojis": [{"shortcode": code, "url": path} for code, path in emojis.items()],
        "url": actor.url or actor.uri,
        "avatar": actor.icon_url,
    }


#: A received poll as the owner sees it (read/note_view.py).
poll = note_view.poll_json


def _note(row: Row, kept: dict[str, str], now_ms: int) -> dict[str, Any]:
    """The reply or mention; ``kept`` maps an icon URL to the path of its cached image."""
    emojis = note_view.shortcodes(json.loads(row["note_emojis"] or "[]"), kept)
    stored_poll = json.loads(row["note_poll"]) if row["note_poll"] else None
    return {
        "uri": row["note_uri"],
        "content": emojify(row["note_content"], emojis),
        "url": row["note_url"],
        "summary": row["note_summary"] or None,
        "summary_html": note_view.summary_html(row["note_summary"], emojis),
        "visibility": row["note_visibility"],
        "published_at": iso8601(row["note_published_at"]),
        "poll": poll(stored_poll, now_ms) if stored_poll else None,
        "emojis": [{"shortcode": code, "url": path} for code, path in emojis.items()],
        "attachments": json.loads(row["note_attachments"] or "[]"),
    }


def notification(row: Row, kept: dict[str, str] | None = None, now_ms: int = 0) -> dict[str, Any]:
    """One notification; ``kept`` maps the icon URL of each cached custom emoji to the path
    it is served at (``/proxy/emoji/...``), ``now_ms`` says whether a poll has closed."""
    actor = actor_from_row(row, "a_") if row["a_id"] is not None else None
    report = None
    if row["report_id"] is not None and row["report_content"] is not None:
        report = {
            "id": str(row["report_id"]),
            "content": row["report_content"],
            "object_uris": json.loads(row["report_objects"] or "[]"),
            "created_at": iso8601(row["report_created_at"]),
        }
    return {
        "id": str(row["id"]),
        "type": row["type"],
        "created_at": iso8601(row["created_at"]),
        "account": account(actor) if actor is not None else None,
        "post": {"id": str(row["post_id"]), "uri": row["post_uri"]}
        if row["post_id"] is not None and row["post_uri"] is not None
        else None,
        "note": _note(row, kept or {}, now_ms) if row["note_uri"] is not None else None,
        "report": report,
        "reaction": {"content": row["reaction"], "url": (kept or {}).get(row["reaction_url"])}
        if row["reaction"]
        else None,
    }


def follow(item: Follow, actor: RemoteActor) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "state": item.state,
        "created_at": iso8601(item.created_at),
        "account": account(actor),
    }


def following(item: Following, actor: RemoteActor) -> dict[str, Any]:
    """An account the business follows (``accepted``) or asked to (``pending``)."""
    return {
        "id": str(item.id),
        "state": item.state,
        "created_at": iso8601(item.created_at),
        "account": account(actor),
    }


def timeline_entry(entry: Entry, given: dict[str, bool] | None = None) -> dict[str, Any]:
    """A post or boost of the home timeline (content: sanitised HTML, stored so);
    ``given``: whether the business liked and boosted the note (``store.given``)."""
    marks = given or {}
    return {
        "id": str(entry.id),
        "uri": entry.note_uri,
        "url": entry.url or entry.note_uri,
        "created_at": iso8601(entry.created_at),
        "published_at": iso8601(entry.published_at),
        "edited_at": iso8601(entry.edited_at) if entry.edited_at is not None else None,
        "content": entry.content_html,
        "summary": entry.summary,
        "visibility": entry.visibility,
        "in_reply_to": entry.in_reply_to_uri,
        "account": account(entry.author),
        "boosted_by": account(entry.booster) if entry.booster is not None else None,
        "attachments": entry.attachments,
        "replied": entry.replied,
        "liked": marks.get(LIKE, False),
        "boosted": marks.get(ANNOUNCE, False),
    }


def block(item: Block) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "actor": item.actor_uri,
        "domain": item.domain,
        "created_at": iso8601(item.created_at),
    }


def report(item: Report, business_ids: list[int] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(item.id),
        "actor": item.actor_uri,
        "content": item.content,
        "object_uris": item.object_uris,
        "created_at": iso8601(item.created_at),
    }
    if business_ids is not None:
        body["business_ids"] = [str(b) for b in business_ids]
    return body
