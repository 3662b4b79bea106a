"""A business likes and boosts posts, and takes it back: Like, Announce and their Undo.

    find_post(services, business, ref)        a post URL, a post's id, or a local post id
                                              -> the ``Target`` (id, author, visibility)
    like(services, business, ref)             row in ``given_reactions`` + Like to the author
    unlike(services, business, ref)           row deleted + Undo{Like} to the author
    boost(services, business, ref)            row + Announce to the followers and the author
    unboost(services, business, ref)          row deleted + Undo{Announce} to the same

Any post: a remote one is fetched through the SSRF-guarded client (signed as the instance
actor) and its author found (stored as a ``remote_actors`` row); another business's post
here, or the business's own, is read from the database and its activities never leave the
instance (``outbound.deliver`` hands them to the local inbox). The network work comes first,
outside the transaction; the transaction writes the row and queues the activity, all or
nothing.

The Announce is addressed as Mastodon addresses a public reblog (to Public, cc the
business's followers and the author), served at its id (``Urls.boost``, ``read.boosts``) and
listed in the outbox. A like of the business's own post is recorded and sent nowhere; a boost
of its own public post goes to its followers (Mastodon allows self-boosts).

Refusals, nothing written (``ProblemError``s, pointer ``/object``):

    not a URL, an id or a post here                    422 / 404 for an unknown local id
    the post cannot be fetched (reason in words)       422
    its author or their server is blocked              422
    boost of a followers-only, direct or limited post  422
    the same like or boost again                       409
    undo of a like or boost never given                404
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fedi_town.errors import Conflict, FediTownError, NotFound, Unprocessable
from fedi_town.outbound.audience import local_post_at
from fedi_town.protocol import activities
from fedi_town.protocol.reading import (
    audience,
    id_of,
    ids_of,
    is_http_url,
    mentioned_hrefs,
    types_of,
)
from fedi_town.protocol.reading import visibility as visibility_of
from fedi_town.remote import actors as remote_actors
from fedi_town.remote.errors import (
    FetchFailed,
    ForbiddenAddress,
    RemoteGone,
    RemoteNotFound,
    RemoteUnreachable,
)
from fedi_town.services import Services
from fedi_town.store import businesses, local_actors, moderation, outbox
from fedi_town.store import given as given_store
from fedi_town.store.businesses import Business
from fedi_town.store.db import new_id
from fedi_town.store.document_inputs import announce_document
from fedi_town.store.effects import BusinessChanged
from fedi_town.store.given import Given, Kind
from fedi_town.store.posts import Post

log = logging.getLogger(__name__)

_POINTER = "/object"
#: Object types a Mastodon-like server shows as a status (and so can be liked or boosted).
POST_TYPES = frozenset({"Note", "Article", "Question", "Page", "Image", "Video", "Audio", "Event"})
_BOOSTABLE = ("public", "unlisted")


def _refused(detail: str, message: str, code: str) -> Unprocessable:
    return Unprocessable(detail, errors=[{"pointer": _POINTER, "message": message, "code": code}])


@dataclass(frozen=True)
class Target:
    """A post to like or boost: its id, its author (id and inbox), how it is addressed, and
    the local post when it is one of ours."""

    uri: str
    author_uri: str
    author_inbox: str | None
    visibility: str
    local: Post | None = None


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


def why_unfetchable(exc: FediTownError, host: str) -> tuple[str, str]:
    """Code and words for the owner when the post at ``host`` could not be fetched."""
    if isinstance(exc, RemoteNotFound):
        return "not_found", f"{host} has no such post"
    if isinstance(exc, RemoteGone):
        return "gone", f"that post was deleted from {host}"
    if isinstance(exc, FetchFailed):
        if exc.status in (401, 403):
            return "refused", f"{host} does not show that post to other servers"
        if exc.status == 429 or exc.status >= 500:
            return "refused", f"{host} is having trouble; try again later"
        return "refused", f"{host} refused to show that post"
    if isinstance(exc, ForbiddenAddress):
        return "private", f"{host} is a private address, which this instance does not contact"
    if isinstance(exc, RemoteUnreachable):
        if exc.reason == "timeout":
            return "unreachable", f"{host} did not answer in time"
        return "unreachable", f"{host} did not answer"
    return "unusable", f"{host} did not answer with a post"


async def _local_target(services: Services, business: Business, post: Post) -> Target:
    author = await businesses.by_id(services.store, post.business_id)
    if author is None or author.deleted_at is not None:
        raise NotFound("no such post")
    if author.id != business.id and post.visibility not in _BOOSTABLE:
        raise NotFound("no such post")  # not shown to other businesses: as if unknown
    urls = services.urls
    inbox = None if author.id == business.id else urls.inbox(author.username)
    return Target(post.uri, urls.actor(author.username), inbox, post.visibility, post)


async def _blocked(services: Services, business: Business, uri: str) -> None:
    if await moderation.blocking(services.store, uri, business.id) is not None:
        raise _refused(
            f"{uri} is blocked", "That post's author or their server is blocked.", "blocked"
        )


async def _remote_target(services: Services, business: Business, url: str) -> Target:
    host = _host(url)
    await _blocked(services, business, url)
    try:
        note = await remote_actors.fetch_document(services.fetcher(), url, check_id=False)
        uri = id_of(note)
        if uri is None or not is_http_url(uri) or _host(uri) != host:
            raise _refused(
                f"{url} names a post elsewhere", f"{host} did not answer with a post", "unusable"
            )
        if uri != url:  # a web address: the post is what its own id answers
            note = await remote_actors.fetch_document(services.fetcher(), uri)
        if not POST_TYPES.intersection(types_of(note)):
            raise _refused(f"{url} is not a post", "That address is not a post.", "not_a_post")
        author_uri = id_of(note.get("attributedTo"))
        if isinstance(note.get("attributedTo"), list):
            author_uri = next(iter(ids_of(note.get("attributedTo"))), None)
        if author_uri is None or _host(author_uri) != host:
            raise _refused(
                f"{url} has no author on its own host", "That post has no author.", "unusable"
            )
        await _blocked(services, business, author_uri)
        if local_actors.username_at(services.urls, author_uri) is not None:
            raise _refused(
                f"{url} claims an author here", "That post is not from here.", "unusable"
            )
        actor = await remote_actors.known_or_fetch(services.fetcher(), author_uri)
    except FediTownError as exc:
        if isinstance(exc, Unprocessable):
            raise
        code, reason = why_unfetchable(exc, host)
        log.info("post %s cannot be fetched: %s (%s)", url, code, type(exc).__name__)
        raise _refused(f"cannot fetch {url}: {reason}", reason, code) from None
    to, cc = audience(note)
    seen = visibility_of(to, cc, followers_uri=actor.followers_uri, mentions=mentioned_hrefs(note))
    return Target(uri, actor.uri, actor.shared_inbox or actor.inbox, seen)


async def find_post(services: Services, business: Business, ref: str) -> Target:
    """The post ``ref`` names: a post URL (remote or here), or the id of a post here."""
    value = ref.strip()
    if value.isdigit():
        post = await local_post_at(services, value)
        if post is None:
            raise NotFound(f"no post {value} here")
        return await _local_target(services, business, post)
    if not is_http_url(value):
        raise _refused(
            "object must be a post's URL or id",
            "Give the address of a post (https://…) or the number of a post here.",
            "invalid",
        )
    if value.startswith(services.urls.base + "/"):
        post = await local_post_at(services, value)
        if post is None:
            raise NotFound(f"no post at {value}")
        return await _local_target(services, business, post)
    return await _remote_target(services, business, value)


# -- the activities ----------------------------------------------------------------------------


def _like_body(services: Services, business: Business, row: Given) -> dict[str, Any]:
    return activities.like(
        id=row.activity_uri, actor=services.urls.actor(business.username), object=row.object_uri
    )


def _body(services: Services, business: Business, row: Given) -> dict[str, Any]:
    if row.kind == given_store.LIKE:
        return _like_body(services, business, row)
    return announce_document(services.urls, business.username, row)


async def _inboxes(services: Services, business: Business, row: Given) -> list[str]:
    """Where a like (the author) or a boost (the followers and the author) goes."""
    found: list[str] = []
    if row.kind == given_store.ANNOUNCE:
        found += await outbox.follower_inboxes(services.store, business.id)
    if row.author_uri != services.urls.actor(business.username):
        author = await _author_inbox(services, row.author_uri)
        if author:
            found.append(author)
    return list(dict.fromkeys(found))


async def _author_inbox(services: Services, author_uri: str) -> str | None:
    local = await local_actors.business_at(services.store, services.urls, author_uri)
    if local is not None:
        return services.urls.inbox(local.username)
    try:
        actor = await remote_actors.known_or_fetch(services.fetcher(), author_uri)
    except FediTownError as exc:  # known when given; forgotten and unreachable since
        log.info("author %s not reached: %s", author_uri, type(exc).__name__)
        return None
    return actor.shared_inbox or actor.inbox


_NAMES = {given_store.LIKE: "like", given_store.ANNOUNCE: "boost"}


async def _give(services: Services, business: Business, ref: str, kind: Kind) -> Given:
    target = await find_post(services, business, ref)
    if kind == given_store.ANNOUNCE and target.visibility not in _BOOSTABLE:
        raise _refused(
            f"cannot boost a {target.visibility} post",
            "Only public and unlisted posts can be boosted.",
            "not_public",
        )
    store = services.store
    urls = services.urls
    now = services.now_ms()
    row_id = new_id(now)
    activity_uri = (
        urls.activity(business.username, row_id)
        if kind == given_store.LIKE
        else urls.boost(business.username, row_id)
    )
    async with store.transaction():
        row = await given_store.insert(
            store,
            row_id=row_id,
            business_id=business.id,
            object_uri=target.uri,
            kind=kind,
            activity_uri=activity_uri,
            author_uri=target.author_uri,
            now=now,
        )
        if row is None:
            raise Conflict(f"{business.username} already gave a {_NAMES[kind]} to {target.uri}")
        inboxes = await _inboxes(services, business, row)
        await outbox.enqueue(
            store,
            business_id=business.id,
            body=_body(services, business, row),
            inboxes=inboxes,
            now=now,
        )
        if kind == given_store.ANNOUNCE:
            store.after_commit(BusinessChanged(business.username))  # its outbox changed
    log.info("%s gave a %s to %s", business.username, _NAMES[kind], target.uri)
    return row


async def _take_back(services: Services, business: Business, ref: str, kind: Kind) -> Given:
    """Undo a like or boost of the post ``ref``: found by what was stored (no fetch needed
    when the URL is the post's id), else by the post it names."""
    store = services.store
    value = ref.strip()
    row = await given_store.of_object(store, business.id, value, kind) if value else None
    if row is None:
        uri = (await find_post(services, business, value)).uri
        row = await given_store.of_object(store, business.id, uri, kind)
    if row is None:
        raise NotFound(f"{business.username} gave no {_NAMES[kind]} to that post")
    urls = services.urls
    sender = urls.actor(business.username)
    now = services.now_ms()
    inboxes = await _inboxes(services, business, row)
    async with store.transaction():
        if not await given_store.delete(store, row.id):
            raise NotFound(f"{business.username} gave no {_NAMES[kind]} to that post")
        body = activities.undo(
            id=urls.activity(business.username, new_id(now)),
            actor=sender,
            activity=_body(services, business, row),
        )
        await outbox.enqueue(store, business_id=business.id, body=body, inboxes=inboxes, now=now)
        if kind == given_store.ANNOUNCE:
            store.after_commit(BusinessChanged(business.username))
    log.info("%s took back its %s of %s", business.username, _NAMES[kind], row.object_uri)
    return row


async def like(services: Services, business: Business, ref: str) -> Given:
    """Like the post ``ref``: the Like goes to its author."""
    return await _give(services, business, ref, given_store.LIKE)


async def unlike(services: Services, business: Business, ref: str) -> Given:
    """Take a like back: Undo{Like} to the author."""
    return await _take_back(services, business, ref, given_store.LIKE)


async def boost(services: Services, business: Business, ref: str) -> Given:
    """Boost the post ``ref``: the Announce goes to the followers and the author."""
    return await _give(services, business, ref, given_store.ANNOUNCE)


async def unboost(services: Services, business: Business, ref: str) -> Given:
    """Take a boost back: Undo{Announce} to the followers and the author."""
    return await _take_back(services, business, ref, given_store.ANNOUNCE)
