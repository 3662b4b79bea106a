"""Search from a Mastodon app, and mention autocomplete.

    GET /api/v2/search?q=&type=&resolve=&limit=&offset=    read:search (or no token)
    GET /api/v1/accounts/search?q=&resolve=&limit=         read:accounts (or no token)

What a query finds:
- ``@user@host`` (or ``user@host``): a business here when ``host`` is this instance; else
  an actor already known, or, with ``resolve=true`` and a business's token, one found by
  WebFinger and fetched through the SSRF-guarded client (``remote/actors.py``).
- an ``https://`` URL: a business or a post here by its address; elsewhere, with
  ``resolve=true`` and a token, the fetched actor (an account) or note (a status, stored
  as a remote note so the app can open it and answer it).
- a word: businesses here whose username or name starts with it, and known actors whose
  username does (accounts); hashtags used by public posts here (hashtags).
Statuses are not searched by their text (Mastodon too searches text only when opted in).
A lookup that fails elsewhere answers empty results, never an error: the app shows
"nothing found".
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import FediTownError, Unprocessable
from fedi_town.inbound.handlers.notes import STORED_TYPES, note_content
from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import business_account, note_status, post_status, remote_account
from fedi_town.protocol.ids import query_limit
from fedi_town.protocol.reading import id_of, ids_of, same_host, types_of
from fedi_town.protocol.usernames import is_username
from fedi_town.remote import actors as remote_actors
from fedi_town.services import Services
from fedi_town.store import actors, businesses, post_lists, social
from fedi_town.store import posts as post_store
from fedi_town.store import search as search_store
from fedi_town.store.actors import RemoteActor

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 20
MAX_LIMIT = 40
TYPES = ("accounts", "statuses", "hashtags")
_HANDLE = re.compile(r"\A@?([^@\s/:]+)@([^@\s/]+)\Z")
_TAG = re.compile(r"\A#?(\w{1,100})\Z")


class Found:
    """What a search found, in Mastodon's Search shape."""

    def __init__(self) -> None:
        self.accounts: list[dict[str, Any]] = []
        self.statuses: list[dict[str, Any]] = []
        self.hashtags: list[dict[str, Any]] = []

    def body(self) -> dict[str, Any]:
        return {"accounts": self.accounts, "statuses": self.statuses, "hashtags": self.hashtags}


async def _account_of_actor(services: Services, actor: RemoteActor) -> dict[str, Any]:
    """A business here (its own account) or an actor elsewhere."""
    base = services.urls.actor("")
    if actor.uri.startswith(base):
        business = await businesses.by_username(services.store, actor.uri[len(base) :])
        if business is not None and business.deleted_at is None:
            return await business_account(services, business)
    return remote_account(services, actor)


async def _handle(services: Services, username: str, host: str, resolve: bool) -> list[Any]:
    """The account ``username@host``: here, known, or (``resolve``) found by WebFinger."""
    if host.lower() == services.urls.domain.lower():
        business = await businesses.by_username(services.store, username)
        if business is None or business.deleted_at is not None or business.kind != "business":
            return []
        return [await business_account(services, business)]
    known = await actors.by_handle(services.store, username, host)
    if known is not None:
        return [remote_account(services, known)]
    if not resolve:
        return []
    try:
        fetcher = services.fetcher()
        uri = await remote_actors.resolve_handle(fetcher, username, host)
        actor = await remote_actors.known_or_fetch(fetcher, uri)
    except FediTownError as exc:
        log.info("search: could not resolve @%s@%s (%s)", username, host, type(exc).__name__)
        return []
    return [await _account_of_actor(services, actor)]


async def _local_url(services: Services, url: str, found: Found) -> None:
    """A business or a public post of this instance, by one of its addresses."""
    store = services.store
    post = await post_store.by_uri(store, url)
    path = urlsplit(url).path.strip("/").split("/")
    if post is None and len(path) == 2 and path[0].startswith("@") and path[1].isdigit():
        post = await post_store.by_id_any(store, int(path[1]))
        owner = await businesses.by_id(store, post.business_id) if post else None
        if post is None or owner is None or services.urls.post_page(owner.username, post.id) != url:
            post = None
    if post is not None and post.is_published and post.visibility in ("public", "unlisted"):
        owner = await businesses.by_id(store, post.business_id)
        if owner is not None and owner.deleted_at is None:
            found.statuses.append(await post_status(services, owner, post))
        return
    candidate = path[-1].lstrip("@") if path else ""
    business = await businesses.by_username(store, candidate) if is_username(candidate) else None
    if business is None or business.deleted_at is not None or business.kind != "business":
        return
    addresses = (
        services.urls.actor(business.username),
        services.urls.profile_page(business.username),
    )
    if url in addresses:
        found.accounts.append(await business_account(services, business))


async def _remote_url(services: Services, url: str, found: Found) -> None:
    """An actor or a note elsewhere, fetched (signed as the instance actor, SSRF-guarded)."""
    store = services.store
    known = await actors.by_uri(store, url)
    if known is not None:
        found.accounts.append(remote_account(services, known))
        return
    note = await post_lists.note_by_uri(store, url)
    if note is None:
        try:
            note = await _fetch(services, url, found)
        except FediTownError as exc:
            log.info("search: could not resolve a URL (%s)", type(exc).__name__)
            return
    if note is not None:
        author = remote_account(services, actors.actor_from_row(note, "a_"))
        found.statuses.append(note_status(services, note, author))


async def _fetch(services: Services, url: str, found: Found) -> Any:
    """Fetch ``url``: an actor is stored and added to ``found``; a note is stored (no one
    is notified: it reached no business) and its row answered."""
    fetcher = services.fetcher()
    document = await remote_actors.fetch_document(fetcher, url, check_id=False)
    if types_of(document) & STORED_TYPES:
        uri = id_of(document)
        authors = ids_of(document.get("attributedTo"))
        if not uri or not authors or not same_host(uri, authors[0]):
            return None
        existing = await post_lists.note_by_uri(services.store, uri)
        if existing is not None:
            return existing
        if await post_store.by_uri(services.store, uri) is not None:
            return None
        author = await remote_actors.known_or_fetch(fetcher, authors[0])
        now = services.now_ms()
        content = note_content(document, document, author, now)
        await social.insert_note(
            services.store, uri=uri, actor_id=author.id, content=content, now=now
        )
        return await post_lists.note_by_uri(services.store, uri)
    uri = id_of(document)
    if uri:
        actor = await remote_actors.known_or_fetch(fetcher, uri)
        found.accounts.append(await _account_of_actor(services, actor))
    return None


async def _words(services: Services, text: str, limit: int, found: Found, kinds: set[str]) -> None:
    if "accounts" in kinds:
        name, _, host = text.lstrip("@").partition("@")
        if name:
            if not host:
                for business in await search_store.businesses_named(
                    services.store, name, limit=limit
                ):
                    found.accounts.append(await business_account(services, business))
            room = limit - len(found.accounts)
            if room > 0:
                for actor in await search_store.actors_named(
                    services.store, name, domain=host or None, limit=room
                ):
                    found.accounts.append(remote_account(services, actor))
    tag = _TAG.match(text)
    if "hashtags" in kinds and tag:
        name = tag.group(1)
        wanted = post_lists.Filter(business_id=None, visibilities=("public",), tagged=name)
        if await post_lists.page(services.store, wanted, limit=1):
            url = services.settings.base_url.rstrip("/") + f"/tags/{name.lower()}"
            found.hashtags.append({"name": name.lower(), "url": url, "history": []})


async def search(
    services: Services, grant: Grant | None, text: str, kinds: set[str], resolve: bool, limit: int
) -> Found:
    """What ``text`` finds (see the module docstring)."""
    found = Found()
    text = text.strip()
    if not text:
        return found
    # Reaching out to other servers is for a signed-in business, as Mastodon does.
    resolve = resolve and grant is not None and grant.business is not None
    handle = _HANDLE.match(text)
    if text.startswith(("https://", "http://")) and len(text) < 2000:
        if text.startswith(services.settings.base_url.rstrip("/") + "/"):
            await _local_url(services, text, found)
        elif resolve:
            await _remote_url(services, text, found)
    elif handle and "accounts" in kinds:
        found.accounts = await _handle(services, handle.group(1), handle.group(2), resolve)
        if not found.accounts:
            await _words(services, text, limit, found, {"accounts"})
    else:
        await _words(services, text, limit, found, kinds)
    if "accounts" not in kinds:
        found.accounts = []
    if "statuses" not in kinds:
        found.statuses = []
    found.accounts = found.accounts[:limit]
    return found


def _limit(query: dict[str, Any]) -> int:
    raw = params.text(query, "limit")
    if raw.isdigit() and len(raw) < 10 and int(raw) > MAX_LIMIT:
        raw = str(MAX_LIMIT)
    return query_limit(raw or None, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)


@endpoint("read:search", token=False)
async def search_v2(request: Request, grant: Grant | None) -> Response:
    services: Services = request.app.state.services
    query = params.query(request)
    kind = params.text(query, "type")
    if kind and kind not in TYPES:
        raise Unprocessable("Validation failed: type is not one of accounts, statuses, hashtags")
    limit = _limit(query)
    offset = params.text(query, "offset")
    if offset and offset != "0":  # one page of the best matches: later pages are empty
        return json(Found().body())
    resolve = bool(params.flag(query, "resolve"))
    found = await search(
        services, grant, params.text(query, "q"), {kind} if kind else set(TYPES), resolve, limit
    )
    return json(found.body())


@endpoint("read:accounts", token=False)
async def search_accounts(request: Request, grant: Grant | None) -> Response:
    services: Services = request.app.state.services
    query = params.query(request)
    resolve = bool(params.flag(query, "resolve"))
    found = await search(
        services, grant, params.text(query, "q"), {"accounts"}, resolve, _limit(query)
    )
    return json(found.accounts)


routes = [
    Route("/api/v2/search", search_v2, methods=["GET"]),
    Route("/api/v1/accounts/search", search_accounts, methods=["GET"]),
]
