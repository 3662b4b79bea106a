"""Remote actors and keys: fetch (signed, as the instance actor), parse strictly, store.

    fetch_actor(fetcher, uri)         GET the actor, parse, store; return the stored row
    fetch_key(fetcher, key_id)        GET ``keyId`` minus fragment: an actor holding the key,
                                      or a key document whose owner's actor lists it
    resolve_handle(fetcher, handle)   WebFinger ``@user@host`` to an actor id

``fetcher`` is a ``Fetcher``: the HTTP client, storage, the instance actor's signer and the
key cache, handed down by the caller (``Services.fetcher()``).

``parse_actor`` and ``parse_key_document`` are pure. An actor must have a string ``id``, an
actor ``type`` and an ``inbox`` (interop §2); ``publicKey`` may be one object or a list
(Mastodon 4.6 sends several).

A key is bound to an actor only by that actor's own document, and only when the document
lists it with ``owner`` equal to the actor and a key id on the actor's host: an actor
cannot claim another server's key. A key already bound to one actor is never moved to
another by an actor document; it moves only when fetching the key id itself leads to the
new owner (``fetch_key``), so a hostile document cannot lock the real owner out.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from fedi_town.errors import ProtocolError
from fedi_town.protocol.keys import load_public_key
from fedi_town.protocol.note_parts import EmojiTag, read_emojis
from fedi_town.protocol.reading import as_list, href_of, id_of, ids_of, is_http_url, same_host
from fedi_town.remote.http import RemoteClient
from fedi_town.remote.key_cache import KeyCache
from fedi_town.remote.knock import RequestSigner
from fedi_town.store import actors as store_actors
from fedi_town.store.actors import ActorProfile, RemoteActor
from fedi_town.store.db import Store, epoch_ms

log = logging.getLogger(__name__)

ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
_MAX_NAME = 2048
_MAX_ALIASES = 256


class BadActorDocument(ProtocolError):
    """A fetched or embedded document is not an actor we can use."""


class KeyNotListed(ProtocolError):
    """The fetched document does not hold (or its owner does not list) the key asked for."""


@dataclass(frozen=True, eq=False)
class Fetcher:
    """What fetching remote actors and keys works with."""

    client: RemoteClient
    store: Store
    #: the instance actor's: every server-to-server GET is signed as it (interop S1, S4)
    signer: RequestSigner
    #: keys in memory, forgotten when their actor's document is stored again
    keys: KeyCache
    #: WebFinger in plain http to loopback and private hosts (``allow_private_addresses``)
    allow_private: bool
    #: the time an actor is stored as fetched at
    clock: Callable[[], datetime]

    def now_ms(self) -> int:
        return epoch_ms(self.clock())


@dataclass(frozen=True)
class FetchedKey:
    key_id: str
    owner_uri: str
    public_key_pem: str


def _short_text(value: Any) -> str | None:
    return value[:_MAX_NAME] if isinstance(value, str) and value else None


def _actor_type(value: Any) -> str | None:
    for item in as_list(value):
        if isinstance(item, str) and item in ACTOR_TYPES:
            return item
    return None


def _keys(document: dict[str, Any], owner: str) -> tuple[tuple[str, str], ...]:
    """The keys ``owner``'s document lists as its own: ``owner`` named, key id on its host."""
    keys: list[tuple[str, str]] = []
    for item in as_list(document.get("publicKey")):
        if not isinstance(item, dict):
            continue
        key_id, pem = item.get("id"), item.get("publicKeyPem")
        if not isinstance(key_id, str) or not isinstance(pem, str) or item.get("owner") != owner:
            continue
        if not is_http_url(key_id) or not same_host(key_id, owner):
            continue  # a key id on another host is that host's to vouch for, not this actor's
        keys.append((key_id, pem))
    return tuple(keys)


def _name_emojis(document: dict[str, Any], name: str | None) -> tuple[EmojiTag, ...]:
    """The actor's custom emoji (``tag`` items of type ``Emoji``, read as a note's) that its
    name shows as ``:code:``; the others (of the bio, of fields) are not kept."""
    if not name or ":" not in name:
        return ()
    return tuple(e for e in read_emojis(document) if f":{e.shortcode}:" in name)


def parse_actor(document: dict[str, Any]) -> ActorProfile:
    """The parts of an actor document we keep; ``BadActorDocument`` if it is not one."""
    uri = document.get("id")
    if not is_http_url(uri):
        raise BadActorDocument("actor has no http(s) id")
    assert isinstance(uri, str)
    kind = _actor_type(document.get("type"))
    if kind is None:
        raise BadActorDocument("document is not an actor type")
    inbox = id_of(document.get("inbox"))
    if not is_http_url(inbox):
        raise BadActorDocument("actor has no inbox")
    assert inbox is not None
    endpoints = document.get("endpoints")
    shared = id_of(endpoints.get("sharedInbox")) if isinstance(endpoints, dict) else None
    username = document.get("preferredUsername")
    icon = None
    for item in as_list(document.get("icon")):
        if isinstance(item, dict) and (icon := href_of(item.get("url"))):
            break
    url = href_of(document.get("url"))
    if url is not None and not same_host(url, uri):
        url = None  # Mastodon uses url only on the id's host (mismatching_origin?)
    moved_to = id_of(document.get("movedTo"))
    name = _short_text(document.get("name"))
    return ActorProfile(
        uri=uri,
        type=kind,
        inbox=inbox,
        username=username if isinstance(username, str) and username else None,
        display_name=name,
        url=url,
        icon_url=icon,
        shared_inbox=shared if is_http_url(shared) else None,
        followers_uri=id_of(document.get("followers")),
        also_known_as=tuple(ids_of(document.get("alsoKnownAs"))[:_MAX_ALIASES]),
        moved_to=moved_to if is_http_url(moved_to) else None,
        keys=_keys(document, uri),
        emojis=_name_emojis(document, name),
    )


def _key_owner(document: dict[str, Any], key_id: str) -> str:
    """The owner named for ``key_id`` by a key document or an actor stub (GoToSocial)."""
    if "publicKeyPem" in document:
        key = parse_key_document(document)
        if key.key_id != key_id:
            raise KeyNotListed("key document has another id")
        return key.owner_uri
    for item in as_list(document.get("publicKey")):
        if isinstance(item, dict) and item.get("id") == key_id:
            owner = item.get("owner")
            if isinstance(owner, str) and is_http_url(owner):
                return owner
    raise KeyNotListed("document is neither an actor nor a key")


def parse_key_document(document: dict[str, Any]) -> FetchedKey:
    """A standalone key ``{id, owner, publicKeyPem}`` (GoToSocial, Pleroma style)."""
    key_id, owner, pem = document.get("id"), document.get("owner"), document.get("publicKeyPem")
    if not (isinstance(key_id, str) and isinstance(owner, str) and isinstance(pem, str)):
        raise KeyNotListed("document is neither an actor nor a key")
    return FetchedKey(key_id, owner, pem)


async def fetch_document(fetcher: Fetcher, url: str, *, check_id: bool = True) -> dict[str, Any]:
    """GET an ActivityStreams document signed as our instance actor (interop S1, S4)."""
    document: dict[str, Any] = await fetcher.client.fetch_object(
        url, signer=fetcher.signer, check_id=check_id
    )
    return document


async def store_profile(
    store: Store,
    keys: KeyCache,
    profile: ActorProfile,
    *,
    now: int,
    proven_key: str | None = None,
) -> RemoteActor:
    """Store a parsed actor and forget any of its keys cached in memory.

    A listed key that another actor holds stays that actor's, except ``proven_key``: the
    key id whose own URL was just fetched and led to this actor (``fetch_key``).
    """
    for _key_id, pem in profile.keys:
        load_public_key(pem)  # refuse unusable keys before storing them (BadPublicKey)
    actor = await store_actors.upsert(store, profile, now=now, move_key=proven_key)
    keys.forget_owner(profile.uri)
    return actor


async def fetch_actor(fetcher: Fetcher, uri: str) -> RemoteActor:
    """Fetch an actor document, check it is the actor asked for, store and return it."""
    document = await fetch_document(fetcher, uri)
    profile = parse_actor(document)
    actor = await store_profile(fetcher.store, fetcher.keys, profile, now=fetcher.now_ms())
    log.info("fetched actor %s (%d key(s))", uri, len(profile.keys))
    return actor


async def known_or_fetch(fetcher: Fetcher, uri: str) -> RemoteActor:
    """The stored actor, fetching it first if we do not know it."""
    actor = await store_actors.by_uri(fetcher.store, uri)
    return actor if actor is not None else await fetch_actor(fetcher, uri)


async def fetch_key(fetcher: Fetcher, key_id: str) -> FetchedKey:
    """Resolve ``key_id`` by fetching it (interop S4, S9) and store what was learned.

    The URL minus its fragment is either the actor (its ``publicKey`` lists the key), a
    key document whose ``owner`` is an actor that lists the key, or GoToSocial's stub of
    the actor served at ``…/main-key`` (its ``id`` is the actor's, not the URL). Only the
    actor document itself, fetched from its own id on the key's host, is trusted for the
    key; having been reached from the key id, it may take the key over from another actor.
    """
    if not is_http_url(key_id):
        raise KeyNotListed("key id is not an http(s) URL")
    url = key_id.split("#", 1)[0]
    document = await fetch_document(fetcher, url, check_id=False)
    profile = None
    if document.get("id") == url:
        try:
            profile = parse_actor(document)
        except BadActorDocument:
            profile = None
    if profile is None:
        owner_uri = _key_owner(document, key_id)
        if not same_host(owner_uri, key_id):
            raise KeyNotListed("the key's owner is on another host")
        owner = await fetch_document(fetcher, owner_uri)
        profile = parse_actor(owner)
        if not any(listed == key_id for listed, _ in profile.keys):
            # GoToSocial's key documents are also listed in the owner actor; a key that is
            # not is not the owner's.
            raise KeyNotListed("the key's owner does not list the key")
    listed_here = any(listed == key_id for listed, _ in profile.keys)
    await store_profile(
        fetcher.store,
        fetcher.keys,
        profile,
        now=fetcher.now_ms(),
        proven_key=key_id if listed_here else None,
    )
    for listed, pem in profile.keys:
        if listed == key_id:
            return FetchedKey(listed, profile.uri, pem)
    raise KeyNotListed("the actor does not list this key")


def _webfinger_scheme(fetcher: Fetcher, host: str) -> str:
    """https, except plain http for loopback/private hosts when those are allowed (tests)."""
    if not fetcher.allow_private:
        return "https"
    name = urlsplit(f"//{host}").hostname or ""
    if name == "localhost":
        return "http"
    try:
        return "http" if not ipaddress.ip_address(name).is_global else "https"
    except ValueError:
        return "https"


async def resolve_handle(fetcher: Fetcher, username: str, domain: str) -> str:
    """The actor id for ``@username@domain`` via WebFinger (the ``self`` AS2 link)."""
    scheme = _webfinger_scheme(fetcher, domain)
    resource = quote(f"acct:{username}@{domain}", safe=":@")
    url = f"{scheme}://{domain}/.well-known/webfinger?resource={resource}"
    document = await fetcher.client.fetch_json(url)
    for link in as_list(document.get("links")):
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        media = str(link.get("type", ""))
        if "activity+json" in media or "ld+json" in media:
            href = link.get("href")
            if is_http_url(href):
                assert isinstance(href, str)
                return href
    raise BadActorDocument("WebFinger answer has no ActivityPub self link")
