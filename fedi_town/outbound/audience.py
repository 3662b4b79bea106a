"""Who a post is for: mentions and reply authors resolved to actors and inboxes.

A mention is resolved by WebFinger (``acct:user@host`` → actor id), then the actor (the
stored copy, or a signed GET as the instance actor, see ``remote.actors``) gives its inbox,
the shared one when it has one. A mention of one of our own businesses is resolved from the
database, without HTTP. Addressing (to/cc per visibility) is ``protocol.documents``'.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from fedi_town.errors import FediTownError, RemoteError
from fedi_town.remote import actors as remote_actors
from fedi_town.services import Services
from fedi_town.store import businesses, outbox
from fedi_town.store import posts as post_store
from fedi_town.store.actors import RemoteActor
from fedi_town.text.compose import MentionRef, ResolvedMention

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipient:
    """An actor a post mentions or replies to."""

    mention: ResolvedMention
    inbox: str | None


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


def _local_username(services: Services, actor_uri: str) -> str | None:
    prefix = services.urls.actor("")
    if actor_uri.startswith(prefix) and "/" not in actor_uri[len(prefix) :]:
        return actor_uri[len(prefix) :] or None
    return None


async def _local_recipient(services: Services, username: str) -> Recipient | None:
    business = await businesses.by_username(services.store, username)
    if business is None:
        return None
    urls = services.urls
    mention = ResolvedMention(
        href=urls.actor(business.username),
        url=urls.profile_page(business.username),
        name=urls.handle(business.username),
        username=business.username,
    )
    return Recipient(mention, urls.inbox(business.username))


def _remote_recipient(actor: RemoteActor) -> Recipient:
    url = actor.url if actor.url and _host(actor.url) == _host(actor.uri) else actor.uri
    username = actor.username or actor.uri.rstrip("/").rsplit("/", 1)[-1]
    mention = ResolvedMention(
        href=actor.uri, url=url, name=f"@{username}@{actor.domain}", username=username
    )
    return Recipient(mention, actor.shared_inbox or actor.inbox)


async def resolve_mention(services: Services, ref: MentionRef) -> Recipient | None:
    """The actor behind ``@user@host`` (or a local ``@user``); None when it cannot be found."""
    if ref.host is None or ref.host.lower() == services.urls.domain.lower():
        return await _local_recipient(services, ref.username)
    try:
        actor_uri = await remote_actors.resolve_handle(services.fetcher(), ref.username, ref.host)
        local = _local_username(services, actor_uri)
        if local is not None:
            return await _local_recipient(services, local)
        actor = await remote_actors.known_or_fetch(services.fetcher(), actor_uri)
    except FediTownError as exc:
        log.info("mention @%s@%s left as text: %s", ref.username, ref.host, type(exc).__name__)
        return None
    return _remote_recipient(actor)


@dataclass(frozen=True)
class ReplyTarget:
    uri: str
    author: Recipient


async def resolve_reply(services: Services, uri: str) -> ReplyTarget:
    """The note ``uri`` replies to and its author; ``RemoteError`` when it cannot be fetched."""
    local_post = await post_store.by_uri(services.store, uri)
    if local_post is not None:
        author = await businesses.by_id(services.store, local_post.business_id)
        if author is not None and author.deleted_at is None:
            found = await _local_recipient(services, author.username)
            if found is not None:
                return ReplyTarget(uri, found)
    if uri.startswith(services.urls.base + "/"):
        raise RemoteError(f"{uri} is not a post here")
    note = await remote_actors.fetch_document(services.fetcher(), uri)
    attributed = note.get("attributedTo")
    if isinstance(attributed, list):
        attributed = attributed[0] if attributed else None
    if isinstance(attributed, dict):
        attributed = attributed.get("id")
    if not isinstance(attributed, str) or _host(attributed) != _host(uri):
        raise RemoteError(f"{uri} has no author on its own host")
    local = _local_username(services, attributed)
    if local is not None:
        found = await _local_recipient(services, local)
        if found is None:
            raise RemoteError(f"{uri} is by an unknown business")
        return ReplyTarget(uri, found)
    try:
        actor = await remote_actors.known_or_fetch(services.fetcher(), attributed)
    except FediTownError as exc:
        raise RemoteError(f"the author of {uri} cannot be fetched") from exc
    return ReplyTarget(uri, _remote_recipient(actor))


async def inboxes_for(
    services: Services, business_id: int, visibility: str, extra_inboxes: list[str]
) -> list[str]:
    """Where a post goes: the followers' (shared) inboxes unless direct, and the mentioned."""
    found: list[str] = []
    if visibility != "direct":
        found += await outbox.follower_inboxes(services.store, business_id)
    found += extra_inboxes
    return list(dict.fromkeys(found))
