"""Who a post is for: mentions and reply authors resolved to actors and inboxes.

A mention is resolved by WebFinger (``acct:user@host`` → actor id), then the actor (the
stored copy, or a signed GET as the instance actor, see ``remote.actors``) gives its inbox,
the shared one when it has one. A mention of one of our own businesses is resolved from the
database, without HTTP. Addressing (to/cc per visibility) is ``protocol.documents``'.

A mention that cannot be resolved stays text (as on Mastodon) and comes back as an
``Unresolved`` saying why, in words for the owner. ``why_unresolved`` is the rule table:

    the handle cannot name a server          invalid      not a valid handle
    no business by that name here            not_found    no account by that name on <us>
    a domain or account block covers it      blocked      <domain> is blocked on this instance
                                                          / you blocked <domain> / that account
    WebFinger or the actor answers 404       not_found    no account by that name on <host>
    ... answers 410                          gone         that account was deleted from <host>
    ... answers 429 or 5xx                   refused      <host> is having trouble; try later
    ... answers another status               refused      <host> refused to look up that name
    the address is refused (SSRF guard)      private      <host> is a private address ...
    no answer (timeout, refused connection)  unreachable  <host> did not answer (in time)
    an answer we cannot use                  unusable     <host> did not answer with an account

Blocks are checked before any request: the handle's domain first, then the actor id that
WebFinger gives (its own host may differ), so nothing is fetched from a blocked server.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from fedi_town.errors import FediTownError, RemoteError
from fedi_town.remote import actors as remote_actors
from fedi_town.remote.errors import (
    FetchFailed,
    ForbiddenAddress,
    RemoteGone,
    RemoteNotFound,
    RemoteUnreachable,
)
from fedi_town.services import Services
from fedi_town.store import businesses, moderation, outbox
from fedi_town.store import posts as post_store
from fedi_town.store.actors import RemoteActor
from fedi_town.store.moderation import Block
from fedi_town.store.posts import Post
from fedi_town.text.compose import MentionRef, ResolvedMention, is_plausible_host

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


#: Why a mention was left as text (``Unresolved.code``), for an app to style or count.
UnresolvedCode = Literal[
    "invalid", "not_found", "gone", "blocked", "refused", "private", "unreachable", "unusable"
]
#: Failures that say nothing of the user, only of the host: the other mentions there share them.
_HOST_WIDE: frozenset[UnresolvedCode] = frozenset({"private", "unreachable"})


@dataclass(frozen=True)
class Unresolved:
    """A mention left as text: the handle as typed (``@user@host``), and why."""

    handle: str
    code: UnresolvedCode
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"handle": self.handle, "code": self.code, "reason": self.reason}


def why_unresolved(exc: FediTownError, host: str) -> tuple[UnresolvedCode, str]:
    """What an owner is told when looking up a mention on ``host`` raised ``exc``."""
    if isinstance(exc, RemoteNotFound):
        return "not_found", f"no account by that name on {host}"
    if isinstance(exc, RemoteGone):
        return "gone", f"that account was deleted from {host}"
    if isinstance(exc, FetchFailed):
        if exc.status == 429 or exc.status >= 500:
            return "refused", f"{host} is having trouble; try again later"
        return "refused", f"{host} refused to look up that name"
    if isinstance(exc, ForbiddenAddress):
        return "private", f"{host} is a private address, which this instance does not contact"
    if isinstance(exc, RemoteUnreachable):
        if exc.reason == "timeout":
            return "unreachable", f"{host} did not answer in time"
        return "unreachable", f"{host} did not answer"
    return "unusable", f"{host} did not answer with a fediverse account"


def _block_reason(block: Block) -> str:
    if block.domain is not None:
        if block.business_id is None:
            return f"{block.domain} is blocked on this instance"
        return f"you blocked {block.domain}"
    if block.business_id is None:
        return "that account is blocked on this instance"
    return "you blocked that account"


async def resolve_mention(
    services: Services, ref: MentionRef, business_id: int | None = None
) -> Recipient | Unresolved:
    """The actor behind ``@user@host`` (or a local ``@user``), or why it cannot be found.

    With ``business_id``, that business's own blocks count as well as the instance's."""
    domain = services.urls.domain
    handle = ref.handle(domain)
    if ref.host is None or ref.host.lower() == domain.lower():
        found = await _local_recipient(services, ref.username)
        if found is None:
            return Unresolved(handle, "not_found", f"no account by that name on {domain}")
        return found
    host = ref.host.lower()
    if not is_plausible_host(host):
        return Unresolved(handle, "invalid", "not a valid handle")
    block = await moderation.blocking(services.store, host, business_id)
    if block is not None:
        return Unresolved(handle, "blocked", _block_reason(block))
    try:
        actor_uri = await remote_actors.resolve_handle(services.fetcher(), ref.username, ref.host)
        local = _local_username(services, actor_uri)
        if local is not None:
            found = await _local_recipient(services, local)
            if found is None:
                return Unresolved(handle, "not_found", f"no account by that name on {domain}")
            return found
        block = await moderation.blocking(services.store, actor_uri, business_id)
        if block is not None:
            return Unresolved(handle, "blocked", _block_reason(block))
        actor = await remote_actors.known_or_fetch(services.fetcher(), actor_uri)
    except FediTownError as exc:
        code, reason = why_unresolved(exc, host)
        log.info("mention %s left as text: %s (%s)", handle, code, type(exc).__name__)
        return Unresolved(handle, code, reason)
    return _remote_recipient(actor)


@dataclass(frozen=True)
class Mentions:
    """Mentions looked up: the found by ``MentionRef.key``, the others in the order typed."""

    found: dict[str, Recipient]
    unresolved: list[Unresolved]


async def resolve_mentions(
    services: Services, refs: Sequence[MentionRef], business_id: int | None = None
) -> Mentions:
    """Each of ``refs`` resolved in turn; a host that did not answer (or is private) is
    not asked again for the next mention there, which gets the same reason."""
    found: dict[str, Recipient] = {}
    unresolved: list[Unresolved] = []
    failed_hosts: dict[str, Unresolved] = {}
    for ref in refs:
        host = (ref.host or "").lower()
        if host in failed_hosts:
            failure = failed_hosts[host]
            handle = ref.handle(services.urls.domain)
            unresolved.append(Unresolved(handle, failure.code, failure.reason))
            continue
        result = await resolve_mention(services, ref, business_id)
        if isinstance(result, Unresolved):
            unresolved.append(result)
            if result.code in _HOST_WIDE:
                failed_hosts[host] = result
        else:
            found[ref.key] = result
    return Mentions(found, unresolved)


@dataclass(frozen=True)
class ReplyTarget:
    uri: str
    author: Recipient


_PAGE = re.compile(r"\A/@([^/?#]+)/([0-9]{1,19})\Z")


async def local_post_at(services: Services, ref: str) -> Post | None:
    """A published post here named by its id (URI), its page URL (``/@name/123``) or its
    number; None when ``ref`` names none."""
    if ref.isdigit():
        post_id = int(ref)
        if not 0 < post_id < 2**63:
            return None
        return await post_store.published_by_id(services.store, post_id)
    found = await post_store.by_uri(services.store, ref)
    if found is not None or not ref.startswith(services.urls.base + "/"):
        return found
    page = _PAGE.match(ref[len(services.urls.base) :])
    if page is None:
        return None
    post_id = int(page.group(2))
    return await post_store.by_uri(services.store, services.urls.post(page.group(1), post_id))


async def resolve_reply(services: Services, uri: str) -> ReplyTarget:
    """The note ``uri`` replies to and its author; ``RemoteError`` when it cannot be fetched.

    ``uri`` may be the post's id or its web address (here, or on a server that answers it
    with the post, as Mastodon does): the reply names the post's id either way."""
    local_post = await local_post_at(services, uri)
    if local_post is not None:
        author = await businesses.by_id(services.store, local_post.business_id)
        if author is not None and author.deleted_at is None:
            found = await _local_recipient(services, author.username)
            if found is not None:
                return ReplyTarget(local_post.uri, found)
    if uri.startswith(services.urls.base + "/"):
        raise RemoteError(f"{uri} is not a post here")
    note = await remote_actors.fetch_document(services.fetcher(), uri, check_id=False)
    note_id = note.get("id")
    if not isinstance(note_id, str) or _host(note_id) != _host(uri):
        raise RemoteError(f"{uri} does not answer with a post of its own host")
    if note_id != uri:  # a web address: the post is what its own id answers
        note = await remote_actors.fetch_document(services.fetcher(), note_id)
        uri = note_id
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
