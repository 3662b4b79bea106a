"""Favourites and reblogs from a Mastodon app, and the home timeline: the owner API's own
likes and boosts (``outbound/reactions.py``) and timeline (``store/timeline.py``), so a
favourite from Ivory sends the same ``Like`` as one from the web app.

    POST /api/v1/statuses/{id}/favourite, /unfavourite   write:favourites
    POST /api/v1/statuses/{id}/reblog, /unreblog         write:statuses
    GET  /api/v1/favourites                              read:favourites   the business's likes
    GET  /api/v1/timelines/home                          read:statuses     posts and boosts of
                                                                           whom it follows

A status id is one of the business's posts, a public post of another business here, or a
remote note the API shows (a mention or reply that reached the business, a public note we
stored, one on its home timeline). Favouriting twice, or taking back what was never given,
answers the status as Mastodon does. A reblog answers the reblog wrapper (the business's
account, the boosted status inside); reblogging a followers-only or direct status is 422.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import Conflict, NotFound, Unprocessable
from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import (
    business_account,
    iso,
    note_quotes,
    note_status,
    post_status,
    remote_account,
    viewer_quote_approval,
)
from fedi_town.mastodon.paging import page_of, paged
from fedi_town.outbound import reactions
from fedi_town.protocol.ids import path_id
from fedi_town.services import Services
from fedi_town.store import actors, businesses, moderation, post_lists, social
from fedi_town.store import bookmarks as bookmark_store
from fedi_town.store import given as given_store
from fedi_town.store import mutes as mute_store
from fedi_town.store import posts as post_store
from fedi_town.store import timeline as timeline_store
from fedi_town.store.businesses import Business
from fedi_town.store.timeline import Entry

DEFAULT_LIMIT = 20
MAX_LIMIT = 40
_PUBLIC = ("public", "unlisted")


async def mark(services: Services, business: Business, statuses: Sequence[dict[str, Any]]) -> None:
    """Set ``favourited``, ``reblogged`` and ``bookmarked`` on Statuses (and the ones they
    reblog) from what the business gave and kept: one lookup of each for the whole list."""
    inner = [s["reblog"] if s.get("reblog") else s for s in statuses]
    uris = [s["uri"] for s in inner]
    marks = await given_store.given(services.store, business.id, uris)
    kept = await bookmark_store.marked(services.store, business.id, uris)
    for status in inner:
        found = marks.get(status["uri"], {})
        status["favourited"] = bool(found.get(given_store.LIKE))
        status["reblogged"] = bool(found.get(given_store.ANNOUNCE))
        status["bookmarked"] = status["uri"] in kept
    for status in statuses:
        if status.get("reblog"):
            for key in ("favourited", "reblogged", "bookmarked"):
                status[key] = status["reblog"][key]
    viewer_quote_approval(inner, str(business.id))
    await note_quotes(services, inner)


async def mark_for(
    services: Services, grant: Grant | None, statuses: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``mark`` for the token's business; a list read without one keeps the marks false."""
    if grant is not None and grant.business is not None and statuses:
        await mark(services, grant.business, statuses)
    else:
        inner = [s.get("reblog") or s for s in statuses]
        viewer_quote_approval(inner, None)
        await note_quotes(services, inner)
    return list(statuses)


async def status_of(services: Services, business: Business, raw: str) -> dict[str, Any]:
    """The Status an id names for this business (404 when it cannot see it)."""
    status_id = path_id(raw, "status")
    post = await post_store.by_id_any(services.store, status_id)
    if post is not None and post.is_published:
        if post.business_id == business.id:
            return await post_status(services, business, post)
        owner = await businesses.by_id(services.store, post.business_id)
        if post.visibility in _PUBLIC and owner is not None and owner.deleted_at is None:
            return await post_status(services, owner, post)
        raise NotFound("Record not found")
    note = await social.note_for_business(services.store, status_id, business.id)
    if note is None:
        note = await timeline_store.note_shown(services.store, business.id, status_id)
    if note is None:
        note = await post_lists.public_note(services.store, status_id)
    if note is None:
        raise NotFound("Record not found")
    author = remote_account(services, actors.actor_from_row(note, "a_"))
    return note_status(services, note, author)


async def status_for(services: Services, grant: Grant | None, raw: str) -> dict[str, Any]:
    """The Status an id names for a request: for a business's token, ``status_of``;
    without a token (or an app's own), a public or unlisted post of a business here."""
    if grant is not None and grant.business is not None:
        return await status_of(services, grant.business, raw)
    found = await post_store.by_id_any(services.store, path_id(raw, "status"))
    if found is None or not found.is_published or found.visibility not in _PUBLIC:
        raise NotFound("Record not found")
    owner = await businesses.by_id(services.store, found.business_id)
    if owner is None or owner.deleted_at is not None:
        raise NotFound("Record not found")
    status = await post_status(services, owner, found)
    viewer_quote_approval([status], None)
    return status


async def target(
    request: Request, grant: Grant | None
) -> tuple[Services, Business, dict[str, Any]]:
    """The services, the token's business and the Status the path's ``id`` names for it
    (404 when it cannot see it): what a write on one status starts from."""
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    return services, business, await status_of(services, business, str(request.path_params["id"]))


async def answer_marked(services: Services, business: Business, status: dict[str, Any]) -> Response:
    """The Status as the answer of a write on it, with the business's marks."""
    await mark(services, business, [status])
    return json(status)


@endpoint("write:favourites")
async def favourite(request: Request, grant: Grant | None) -> Response:
    services, business, status = await target(request, grant)
    try:
        await reactions.like(services, business, status["uri"])
    except Conflict:
        pass  # already favourited: Mastodon answers the status
    return await answer_marked(services, business, status)


@endpoint("write:favourites")
async def unfavourite(request: Request, grant: Grant | None) -> Response:
    services, business, status = await target(request, grant)
    if await given_store.of_object(services.store, business.id, status["uri"], "like"):
        await reactions.unlike(services, business, status["uri"])
    return await answer_marked(services, business, status)


async def _wrapper(
    services: Services, business: Business, row_id: int, created: int, inner: dict[str, Any]
) -> dict[str, Any]:
    """Mastodon's reblog: a Status of the booster whose ``reblog`` is the boosted one."""
    return {
        **inner,
        "id": str(row_id),
        "uri": services.urls.boost(business.username, row_id),
        "url": None,
        "created_at": iso(created),
        "account": await business_account(services, business),
        "content": "",
        "spoiler_text": "",
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "application": None,
        "pinned": False,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "reblog": inner,
    }


@endpoint("write:statuses")
async def reblog(request: Request, grant: Grant | None) -> Response:
    services, business, status = await target(request, grant)
    if status["visibility"] not in _PUBLIC:  # refused before any fetch, as the owner API
        raise Unprocessable("Validation failed: only public and unlisted posts can be reblogged")
    row = await given_store.of_object(services.store, business.id, status["uri"], "announce")
    if row is None:
        row = await reactions.boost(services, business, status["uri"])
    wrapper = await _wrapper(services, business, row.id, row.created_at, status)
    await mark(services, business, [wrapper])
    return json(wrapper)


@endpoint("write:statuses")
async def unreblog(request: Request, grant: Grant | None) -> Response:
    services, business, status = await target(request, grant)
    if await given_store.of_object(services.store, business.id, status["uri"], "announce"):
        await reactions.unboost(services, business, status["uri"])
    return await answer_marked(services, business, status)


async def status_at(services: Services, business: Business, uri: str) -> dict[str, Any] | None:
    """The Status of a post or stored note by its ActivityPub id; None if not stored."""
    post = await post_store.by_uri(services.store, uri)
    if post is not None and post.is_published:
        owner = await businesses.by_id(services.store, post.business_id)
        if owner is not None and (owner.id == business.id or post.visibility in _PUBLIC):
            return await post_status(services, owner, post)
        return None
    note = await social.note_by_uri(services.store, uri)
    if note is None:
        return None
    try:
        return await status_of(services, business, str(note.id))
    except NotFound:
        return None


@endpoint("read:favourites")
async def favourites(request: Request, grant: Grant | None) -> Response:
    """The business's likes, newest first, paged by the like's id (``max_id``)."""
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    page = page_of(params.query(request), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    rows = await given_store.page(
        services.store, business.id, kind="like", limit=page.limit, max_id=page.max_id
    )
    items = []
    for row in rows:
        status = await status_at(services, business, row.object_uri)
        if status is not None:
            items.append(status)
    await mark(services, business, items)
    ids = [row.id for row in rows]
    # Mastodon's favourites page only backwards
    return paged(services, "/api/v1/favourites", page, items, ids, older_only=True)


def entry_status(services: Services, entry: Entry) -> dict[str, Any]:
    """The Status of a home timeline entry (a reblog wrapper for a boost); its ``id`` is
    the note's, set by the caller to ``timeline.status_id`` for a boost."""
    note = {
        "id": entry.note_id,
        "uri": entry.note_uri,
        "url": entry.url,
        "content_html": entry.content_html,
        "summary": entry.summary,
        "visibility": entry.visibility,
        "published_at": entry.published_at,
        "edited_at": entry.edited_at,
    }
    status = note_status(services, note, remote_account(services, entry.author))
    status["media_attachments"] = [
        {
            "id": f"{entry.note_id}-{n}",
            "type": a.get("type") or "unknown",
            "url": a.get("url"),
            "preview_url": a.get("url"),
            "remote_url": a.get("url"),
            "preview_remote_url": None,
            "text_url": None,
            "meta": {},
            "description": a.get("description"),
            "blurhash": None,
        }
        for n, a in enumerate(entry.attachments)
        if isinstance(a, dict)
    ]
    if entry.booster is None:
        return status
    return {
        **status,
        "id": str(entry.id),
        "uri": entry.entry_uri,
        "url": None,
        "created_at": iso(entry.created_at),
        "account": remote_account(services, entry.booster),
        "content": "",
        "spoiler_text": "",
        "reblog": status,
    }


@endpoint("read:statuses")
async def home(request: Request, grant: Grant | None) -> Response:
    """The home timeline (``store.timeline``): posts of followed accounts, and their boosts
    as reblog wrappers; entries of blocked or muted authors or boosters are left out.

    The ids an app sees, and gives back as ``max_id``/``since_id``/``min_id``, are status
    ids (a post's note id, a boost's entry id); each is turned back into its timeline
    entry to page (an id no longer on the timeline pages by its own value: ids grow with
    time)."""
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    store = services.store
    page = page_of(params.query(request), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    max_id = await _entry_cursor(services, business, page.max_id)
    min_id = await _entry_cursor(services, business, page.min_id)
    since_id = await _entry_cursor(services, business, page.since_id)
    if min_id is None and since_id is not None:  # since_id: the newest ones
        entries = await _newest_since(services, business, page.limit, max_id, since_id)
    else:
        entries = await timeline_store.page(
            store, business.id, limit=page.limit, max_id=max_id, min_id=min_id
        )
    blocks = await moderation.block_list(store)
    muted = await mute_store.muted_uris(store, business.id, now=services.now_ms())

    def hidden(actor_uri: str) -> bool:
        return actor_uri in muted or blocks.first(actor_uri, business.id) is not None

    shown = [
        e
        for e in entries
        if not hidden(e.author.uri) and (e.booster is None or not hidden(e.booster.uri))
    ]
    items = [entry_status(services, e) for e in shown]
    for entry, item in zip(shown, items, strict=True):
        item["id"] = str(timeline_store.status_id(entry))
    await mark(services, business, items)
    ids = [timeline_store.status_id(e) for e in entries]
    return paged(services, "/api/v1/timelines/home", page, items, ids)


async def _entry_cursor(services: Services, business: Business, raw: int | None) -> int | None:
    if raw is None:
        return None
    found = await timeline_store.entry_of_status(services.store, business.id, raw)
    return found if found is not None else raw


async def _newest_since(
    services: Services, business: Business, limit: int, max_id: int | None, since: int
) -> list[Entry]:
    """``since_id``: the newest entries after ``since`` (not the ones right after it)."""
    entries = await timeline_store.page(services.store, business.id, limit=limit, max_id=max_id)
    return [e for e in entries if e.id > since]


_STATUS = "/api/v1/statuses/{id}"

routes = [
    Route(f"{_STATUS}/favourite", favourite, methods=["POST"]),
    Route(f"{_STATUS}/unfavourite", unfavourite, methods=["POST"]),
    Route(f"{_STATUS}/reblog", reblog, methods=["POST"]),
    Route(f"{_STATUS}/unreblog", unreblog, methods=["POST"]),
    Route("/api/v1/favourites", favourites, methods=["GET"]),
    Route("/api/v1/timelines/home", home, methods=["GET"]),
]
