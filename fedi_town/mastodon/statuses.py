"""Posting from a Mastodon app: the admin API's own commands (``outbound/commands.py``),
so a post from Ivory is checked, composed, stored and delivered exactly as one from the
owner's web app.

    POST   /api/v1/statuses                   write:statuses  (Idempotency-Key honoured)
    GET    /api/v1/statuses/{id}              read:statuses   the business's post, or a
                                                              remote note that reached it
    PUT    /api/v1/statuses/{id}              write:statuses  edit → Update{Note}
    DELETE /api/v1/statuses/{id}              write:statuses  → Delete; answers the status
                                                              with its ``text`` (redraft)
    POST   /api/v1/statuses/{id}/pin, /unpin  write:accounts  featured on the profile
    GET    /api/v1/statuses/{id}/source       read:statuses
    GET    /api/v1/accounts/{id}/statuses     read:statuses   the business's published posts

The text is the admin API's: Markdown, with ``@user@host`` mentions and ``#tags`` linked.
With ``scheduled_at`` the answer is a ScheduledStatus (``mastodon/scheduled.py``); a poll
(``poll[...]``) is read by ``mastodon/polls.py``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import NotFound, Unprocessable
from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import (
    VISIBILITY_IN,
    business_account,
    note_status,
    post_status,
    remote_account,
)
from fedi_town.mastodon.paging import Page, page_of, paged
from fedi_town.mastodon.polls import poll_data
from fedi_town.mastodon.reactions import mark, mark_for, status_of
from fedi_town.mastodon.scheduled import scheduled_status
from fedi_town.outbound import commands
from fedi_town.protocol.ids import path_id
from fedi_town.services import Services
from fedi_town.store import actors, businesses, post_lists, social
from fedi_town.store import media as media_store
from fedi_town.store import posts as post_store
from fedi_town.store.businesses import Business
from fedi_town.store.posts import Post

#: Idempotency keys remembered per process: (token id, key) → post id.
MAX_IDEMPOTENCY_KEYS = 10_000
DEFAULT_LIMIT = 20
MAX_LIMIT = 40
PUBLIC = ("public", "unlisted")


class Idempotency:
    """The last ``MAX_IDEMPOTENCY_KEYS`` posts made with an ``Idempotency-Key``, so an app
    that retries a post after a lost answer gets the same post, not a second one."""

    def __init__(self) -> None:
        self.seen: OrderedDict[tuple[int, str], int] = OrderedDict()

    def get(self, token_id: int, key: str) -> int | None:
        return self.seen.get((token_id, key))

    def put(self, token_id: int, key: str, post_id: int) -> None:
        self.seen[(token_id, key)] = post_id
        while len(self.seen) > MAX_IDEMPOTENCY_KEYS:
            self.seen.popitem(last=False)


#: Mastodon 4.5's ``quote_approval_policy`` → the post's quote policy (``ask`` has no
#: Mastodon word: an app sees it as ``manual`` in ``quote_approval``).
QUOTE_APPROVAL_IN = {"public": "anyone", "followers": "followers", "nobody": "nobody"}


def _application(grant: Grant) -> dict[str, Any]:
    return {"name": grant.app_name, "website": grant.app_website}


async def _reply_uri(services: Services, business: Business, raw: str) -> str:
    """The URI of the status ``in_reply_to_id`` names: one of ours, or a remote note that
    reached this business."""
    status_id = path_id(raw, "in_reply_to_id")
    own = await post_store.by_id(services.store, business.id, status_id)
    if own is not None and own.is_published:
        return own.uri
    note = await social.note_for_business(services.store, status_id, business.id)
    if note is None:
        note = await post_lists.public_note(services.store, status_id)
    if note is None:
        raise NotFound("Record not found")
    return str(note["uri"])


async def _post_data(
    services: Services, business: Business, values: dict[str, Any], *, editing: bool
) -> dict[str, Any]:
    """The admin API's body for a Mastodon status's parameters."""
    data: dict[str, Any] = {}
    poll = None if editing else poll_data(values)  # a poll is not changed by an edit
    if poll is not None:
        data["poll"] = poll
    if values.get("scheduled_at") and not editing:
        data["scheduled_at"] = params.text(values, "scheduled_at")
    if "status" in values or not editing:
        data["content"] = params.text(values, "status")
        if not data["content"].strip():
            raise Unprocessable("Validation failed: Text can't be blank")
    visibility = params.text(values, "visibility")
    if visibility and not editing:
        if visibility not in (*VISIBILITY_IN, "direct"):
            raise Unprocessable("Validation failed: Visibility is not included in the list")
        data["visibility"] = VISIBILITY_IN.get(visibility, visibility)
    if "spoiler_text" in values:
        data["spoiler_text"] = params.text(values, "spoiler_text")
    sensitive = params.flag(values, "sensitive")
    if sensitive is not None:
        data["sensitive"] = sensitive
    if params.text(values, "language"):
        data["language"] = params.text(values, "language")
    if "media_ids" in values:
        data["media_ids"] = params.strings(values, "media_ids")
    quote_approval = params.text(values, "quote_approval_policy")
    if quote_approval:
        if quote_approval not in QUOTE_APPROVAL_IN:
            raise Unprocessable("Validation failed: Quote approval policy is not included")
        data["quote_policy"] = QUOTE_APPROVAL_IN[quote_approval]
    reply = params.text(values, "in_reply_to_id")
    if reply and not editing:
        data["in_reply_to"] = await _reply_uri(services, business, reply)
    return data


@endpoint("write:statuses")
async def create(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    values = await params.read(request, services.settings.max_body_bytes)
    key = request.headers.get("idempotency-key", "")[:200]
    seen = services.parts.get(Idempotency, Idempotency)
    if key:
        earlier = seen.get(grant.token_id, key)
        post = await post_store.by_id(services.store, business.id, earlier) if earlier else None
        if post is not None and not post.is_published:
            media = await media_store.of_post(services.store, post.id)
            return json(scheduled_status(services, post, media, grant.app_id))
        if post is not None:
            return json(await post_status(services, business, post))
    data = await _post_data(services, business, values, editing=False)
    created = await commands.create_post(services, business, data)
    if key:
        seen.put(grant.token_id, key, created.post.id)
    if not created.post.is_published:
        return json(scheduled_status(services, created.post, created.media, grant.app_id))
    reply_id = params.text(values, "in_reply_to_id") or None
    return json(
        await post_status(
            services,
            business,
            created.post,
            media=created.media,
            in_reply_to_id=reply_id,
            application=_application(grant),
        )
    )


async def _own_post(request: Request, grant: Grant | None) -> tuple[Services, Business, Post]:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    status_id = path_id(str(request.path_params["id"]), "status")
    post = await post_store.by_id(services.store, business.id, status_id)
    if post is None or not post.is_published:
        raise NotFound("Record not found")
    return services, business, post


@endpoint("read:statuses", token=False)
async def get_one(request: Request, grant: Grant | None) -> Response:
    """The business's own post (any visibility), a public or unlisted post of another
    business here, or a note that reached it, with ``favourited``/``reblogged``; without a
    token (or an app-only one), a public or unlisted post of any business here."""
    services: Services = request.app.state.services
    status_id = path_id(str(request.path_params["id"]), "status")
    if grant is None or grant.business is None:
        found = await post_store.by_id_any(services.store, status_id)
        if found is None or not found.is_published or found.visibility not in PUBLIC:
            raise NotFound("Record not found")
        owner = await businesses.by_id(services.store, found.business_id)
        if owner is None or owner.deleted_at is not None:
            raise NotFound("Record not found")
        [shown] = await mark_for(services, None, [await post_status(services, owner, found)])
        return json(shown)
    status = await status_of(services, grant.business, str(status_id))
    await mark(services, grant.business, [status])
    return json(status)


@endpoint("write:statuses")
async def edit(request: Request, grant: Grant | None) -> Response:
    services, business, post = await _own_post(request, grant)
    values = await params.read(request, services.settings.max_body_bytes)
    data = await _post_data(services, business, values, editing=True)
    edited = await commands.edit_post(services, business, post, data)
    return json(await post_status(services, business, edited.post))


@endpoint("write:statuses")
async def delete(request: Request, grant: Grant | None) -> Response:
    services, business, post = await _own_post(request, grant)
    status = await post_status(services, business, post)
    await commands.delete_post(services, business, post)
    status["text"] = post.content_source
    return json(status)


@endpoint("write:accounts")
async def pin(request: Request, grant: Grant | None) -> Response:
    """Feature the post on the profile (``commands.set_pinned``: at most 5, public or
    unlisted); ``unpin`` takes it off."""
    services, business, post = await _own_post(request, grant)
    changed = await commands.set_pinned(services, business, post, True)
    return json(await post_status(services, business, changed))


@endpoint("write:accounts")
async def unpin(request: Request, grant: Grant | None) -> Response:
    services, business, post = await _own_post(request, grant)
    changed = await commands.set_pinned(services, business, post, False)
    return json(await post_status(services, business, changed))


@endpoint("read:statuses")
async def source(request: Request, grant: Grant | None) -> Response:
    _services, _business, post = await _own_post(request, grant)
    return json(
        {"id": str(post.id), "text": post.content_source, "spoiler_text": post.spoiler_text}
    )


@endpoint("read:statuses", token=False)
async def account_statuses(request: Request, grant: Grant | None) -> Response:
    """The business's published posts, newest first, with Mastodon's paging and filters
    (``exclude_replies``, ``only_media``, ``pinned``, ``tagged``); followers-only ones
    only to a token of the business itself. ``exclude_reblogs`` changes nothing: a
    business's own posts are never boosts here."""
    services: Services = request.app.state.services
    account_id = path_id(str(request.path_params["id"]), "account")
    business = await businesses.by_id(services.store, account_id)
    query = params.query(request)
    page = page_of(query, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    if business is None:
        return await _remote_statuses(services, account_id, query, page)
    if business.deleted_at is not None or business.kind != "business":
        raise NotFound("Record not found")
    own = grant is not None and grant.business is not None and grant.business.id == business.id
    wanted = post_lists.Filter(
        business_id=business.id,
        visibilities=("public", "unlisted", "followers") if own else PUBLIC,
        exclude_replies=bool(params.flag(query, "exclude_replies")),
        only_media=bool(params.flag(query, "only_media")),
        pinned=bool(params.flag(query, "pinned")),
        tagged=params.text(query, "tagged").lstrip("#") or None,
    )
    found = await post_lists.page(
        services.store,
        wanted,
        limit=page.limit,
        max_id=page.max_id,
        since_id=page.since_id,
        min_id=page.min_id,
    )
    account = await business_account(services, business)
    items = [await post_status(services, business, p, account=account) for p in found]
    extra = [
        (name, "true")
        for name in ("exclude_replies", "only_media", "pinned")
        if params.flag(query, name)
    ]
    path = f"/api/v1/accounts/{business.id}/statuses"
    items = await mark_for(services, grant, items)
    return paged(services, path, page, items, [p.id for p in found], extra=extra)


async def _remote_statuses(
    services: Services, account_id: int, query: dict[str, Any], page: Page
) -> Response:
    """An account elsewhere: its public notes that we stored (replies, mentions, ones
    found by search), newest first; nothing is fetched from its server."""
    actor = await actors.by_id(services.store, account_id)
    if actor is None:
        raise NotFound("Record not found")
    if params.flag(query, "pinned") or params.flag(query, "only_media"):
        return json([])
    rows = await post_lists.public_notes_of(
        services.store, actor.id, limit=page.limit, max_id=page.max_id
    )
    account = remote_account(services, actor)
    items = [note_status(services, row, account) for row in rows]
    path = f"/api/v1/accounts/{actor.id}/statuses"
    return paged(services, path, page, items, [int(row["id"]) for row in rows])


_STATUS = "/api/v1/statuses/{id}"

routes = [
    Route("/api/v1/statuses", create, methods=["POST"]),
    Route(_STATUS, get_one, methods=["GET"]),
    Route(_STATUS, edit, methods=["PUT"]),
    Route(_STATUS, delete, methods=["DELETE"]),
    Route(f"{_STATUS}/pin", pin, methods=["POST"]),
    Route(f"{_STATUS}/unpin", unpin, methods=["POST"]),
    Route(f"{_STATUS}/source", source, methods=["GET"]),
    Route("/api/v1/accounts/{id}/statuses", account_statuses, methods=["GET"]),
]
