"""Note URLs of our posts, their ``Create``, and their replies/likes/shares collections.

Who may see a post is decided by ``read.visibility.can_see``; deleted posts answer 410 with a
``Tombstone``, scheduled ones 404 (interop F5: a 404 makes Mastodon drop a known post, which
is right only for posts that never were public).
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from fedi_town.errors import NotFound
from fedi_town.protocol import activities, documents, quotes
from fedi_town.protocol.documents import Document
from fedi_town.protocol.ids import path_id
from fedi_town.read import pages
from fedi_town.read.cache import FETCHER_DEPENDENT, business_group
from fedi_town.read.lookup import find_business
from fedi_town.read.negotiate import TombstoneGone, serve_document
from fedi_town.read.paging import page_number, paged
from fedi_town.read.visibility import can_see
from fedi_town.services import Services
from fedi_town.store import quotes as quote_store
from fedi_town.store import reads
from fedi_town.store.businesses import Business
from fedi_town.store.document_inputs import note_document, note_inputs
from fedi_town.store.posts import Post
from fedi_town.store.reads import PUBLIC_VISIBILITIES

__all__ = ["can_see", "routes", "visible_post"]


async def visible_post(
    services: Services, request: Request, fetcher: str | None
) -> tuple[Business, Post]:
    """The post named by the URL if ``fetcher`` may see it: else 404, or 410 when deleted.

    An answer about a post that is neither public nor unlisted depends on who asks, so the
    request is marked never to be kept in the shared cache (``read.cache``).
    """
    business = await find_business(services, request)
    post_id = path_id(request.path_params["post_id"], "post")
    post = await reads.post_by_id(services.store, business.id, post_id)
    if post is None or post.published_at is None:
        raise NotFound("no such post")
    if post.visibility not in PUBLIC_VISIBILITIES:
        request.scope[FETCHER_DEPENDENT] = True
    if not await can_see(services.store, post, fetcher):
        raise NotFound("no such post")
    deleted = post.deleted_at or business.deleted_at
    if deleted is not None:
        note_id = services.urls.post(business.username, post.id)
        raise TombstoneGone(activities.tombstone(note_id, "Note", int(deleted)))
    return business, post


async def note(request: Request) -> Response:
    """``/users/{username}/statuses/{id}``: the Note, or the post page for a browser.

    Also at the post page URL ``/@{username}/{id}``, like the actor at the profile URL.
    """
    services: Services = request.app.state.services

    async def build(fetcher: str | None) -> Document:
        business, post = await visible_post(services, request, fetcher)
        return await note_document(services.store, services.urls, business, post)

    group = business_group(str(request.path_params["username"]))
    return await serve_document(request, build, page=lambda: pages.post(request), cache_group=group)


async def note_activity(request: Request) -> Response:
    """``…/statuses/{id}/activity``: the ``Create`` that published the Note."""
    services: Services = request.app.state.services

    async def build(fetcher: str | None) -> Document:
        business, post = await visible_post(services, request, fetcher)
        (note_input,) = await note_inputs(services.store, services.urls, business, [post])
        activity_id = services.urls.post_activity(business.username, post.id)
        return activities.create_note(activity_id, note_input)

    group = business_group(str(request.path_params["username"]))
    return await serve_document(request, build, cache_group=group)


async def replies(request: Request) -> Response:
    """``…/statuses/{id}/replies``: ids of the (public) remote replies, oldest first."""
    services: Services = request.app.state.services

    async def build(fetcher: str | None) -> Document:
        business, post = await visible_post(services, request, fetcher)
        collection_id = services.urls.post_replies(business.username, post.id)
        total = await reads.count_replies(services.store, post.uri, business.id)

        async def fetch(limit: int, offset: int) -> list[str]:
            return await reads.reply_uris(
                services.store, post.uri, business.id, limit=limit, offset=offset
            )

        return await paged(collection_id, page_number(request), total, fetch)

    group = business_group(str(request.path_params["username"]))
    return await serve_document(request, build, cache_group=group)


async def _interactions(request: Request, kind: str) -> Response:
    services: Services = request.app.state.services

    async def build(fetcher: str | None) -> Document:
        business, post = await visible_post(services, request, fetcher)
        urls = services.urls
        url = urls.post_likes if kind == "like" else urls.post_shares
        counts = await reads.interaction_counts(services.store, [post.id])
        return documents.counted_collection(url(business.username, post.id), counts[post.id][kind])

    group = business_group(str(request.path_params["username"]))
    return await serve_document(request, build, cache_group=group)


async def likes(request: Request) -> Response:
    """``…/statuses/{id}/likes``: how many liked it (who, Mastodon does not publish either)."""
    return await _interactions(request, "like")


async def shares(request: Request) -> Response:
    """``…/statuses/{id}/shares``: how many boosted it."""
    return await _interactions(request, "announce")


async def quote_stamp(request: Request) -> Response:
    """``…/statuses/{id}/quotes/{stamp_id}``: a ``QuoteAuthorization`` we granted (FEP-044f),
    while it stands; a revoked one answers 404, as Mastodon's do."""
    services: Services = request.app.state.services

    async def build(fetcher: str | None) -> Document:
        business, post = await visible_post(services, request, fetcher)
        stamp_id = path_id(request.path_params["stamp_id"], "quote authorization")
        stamp = await quote_store.by_id(services.store, post.id, stamp_id)
        if stamp is None:
            raise NotFound("no such quote authorization")
        urls = services.urls
        return quotes.quote_authorization(
            id=urls.quote_stamp(business.username, post.id, stamp.id),
            actor=urls.actor(business.username),
            quote=stamp.quote_uri,
            target=post.uri,
        )

    group = business_group(str(request.path_params["username"]))
    return await serve_document(request, build, cache_group=group)


class NoteRoute(Route):
    """A route whose ``{post_id}`` segment must be ASCII digits, kept as text:
    ``protocol.ids.path_id`` decides whether it is an id (Starlette's ``int`` convertor would
    turn 5,000 digits into a ValueError). Any other segment does not match at all, so the
    router answers as for an unknown path (404, never 405)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE and not _DIGITS.fullmatch(child_scope["path_params"]["post_id"]):
            return Match.NONE, {}
        return match, child_scope


_DIGITS = re.compile("[0-9]+")
_NOTE = "/users/{username}/statuses/{post_id}"
routes = [
    NoteRoute(_NOTE, note, methods=["GET"]),
    NoteRoute("/@{username}/{post_id}", note, methods=["GET"]),
    NoteRoute(_NOTE + "/activity", note_activity, methods=["GET"]),
    NoteRoute(_NOTE + "/replies", replies, methods=["GET"]),
    NoteRoute(_NOTE + "/likes", likes, methods=["GET"]),
    NoteRoute(_NOTE + "/shares", shares, methods=["GET"]),
    NoteRoute(_NOTE + "/quotes/{stamp_id}", quote_stamp, methods=["GET"]),
]
