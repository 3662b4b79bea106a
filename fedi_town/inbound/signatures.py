"""Signature glue: from a received request to "this was signed by actor X", or an error.

    verify_signature(services, sig)  ->  Signer(key_id, owner_uri)

The pure verifier (``protocol.httpsig``) checks bytes; this module finds the key. Keys are
looked up in a bounded in-memory LRU, then ``remote_keys``, then fetched
(``remote.actors.fetch_key``). Requests that miss the LRU at the same moment (a burst from
many senders after a restart) share one ``remote_keys`` query (``KeyLoader``). When a
cached key does not verify, the key is fetched once more and tried again: that is how a
rotated key is picked up (interop S4). Fetch failures
become ``UnknownKey`` (401), except those that may pass (no answer, 5xx, 429), which are a
``KeyTemporarilyUnavailable`` (503) so the sender retries, as Mastodon 4.5.4+ answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import timedelta

from starlette.requests import Request
from starlette.types import Scope

from fedi_town.errors import ProblemError, ProtocolError, RemoteError
from fedi_town.protocol import httpsig
from fedi_town.protocol.httpsig import InvalidSignature, SignatureInput, UnknownKey
from fedi_town.protocol.keys import PublicKey, load_public_key
from fedi_town.remote import actors as remote_actors
from fedi_town.remote.errors import FetchFailed, RemoteUnreachable
from fedi_town.services import Services
from fedi_town.store import actors as store_actors
from fedi_town.store.actors import StoredKey

log = logging.getLogger(__name__)

KEY_CACHE_SIZE = 10_000


class KeyTemporarilyUnavailable(ProblemError):
    """The signer's key could not be fetched right now; the sender should retry (503)."""

    status = 503
    title = "Service Unavailable"


@dataclass(frozen=True)
class CachedKey:
    key_id: str
    owner_uri: str
    public_key: PublicKey = field(repr=False)


@dataclass(frozen=True)
class Signer:
    """Who signed a request: the key and the actor that owns it."""

    key_id: str
    owner_uri: str


class KeyCache:
    """A bounded LRU of parsed public keys by key id."""

    def __init__(self, max_keys: int = KEY_CACHE_SIZE) -> None:
        self._max = max_keys
        self._keys: OrderedDict[str, CachedKey] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, key_id: str) -> CachedKey | None:
        found = self._keys.get(key_id)
        if found is not None:
            self._keys.move_to_end(key_id)
        return found

    def put(self, key: CachedKey) -> None:
        self._keys[key.key_id] = key
        self._keys.move_to_end(key.key_id)
        while len(self._keys) > self._max:
            self._keys.popitem(last=False)

    def forget_owner(self, owner_uri: str) -> None:
        for key_id in [k for k, v in self._keys.items() if v.owner_uri == owner_uri]:
            del self._keys[key_id]


class KeyLoader:
    """Reads keys missing from memory from ``remote_keys``: every key asked for while a
    query runs goes into the next one, and concurrent requests for one key share it."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.queries = 0  # for tests
        self._waiting: dict[str, asyncio.Future[StoredKey | None]] = {}
        self._task: asyncio.Task[None] | None = None

    async def load(self, key_id: str) -> StoredKey | None:
        """The stored key, or None if ``remote_keys`` has no such key."""
        future = self._waiting.get(key_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiting[key_id] = future
            if self._task is None or self._task.done():
                self._task = asyncio.create_task(self._run())
        # shielded: a request that goes away must not cancel the others' answer
        return await asyncio.shield(future)

    async def _run(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, {}
            self.queries += 1
            try:
                found = await store_actors.keys(self.services.store, list(batch))
            except Exception as exc:
                for future in batch.values():
                    if not future.done():
                        future.set_exception(exc)
                continue
            for key_id, future in batch.items():
                if not future.done():
                    future.set_result(found.get(key_id))


def key_loader(services: Services) -> KeyLoader:
    return services.shared("key_loader", lambda: KeyLoader(services))


def key_cache(services: Services) -> KeyCache:
    cache: KeyCache | None = services.extras.get("key_cache")
    if cache is None:
        cache = KeyCache()
        services.extras["key_cache"] = cache
        services.extras["forget_keys_of"] = cache.forget_owner
    return cache


async def _fetch(services: Services, key_id: str) -> CachedKey:
    try:
        fetched = await remote_actors.fetch_key(services, key_id)
    except RemoteUnreachable as exc:
        log.info("key %s unreachable (%s)", key_id, exc.reason)
        raise KeyTemporarilyUnavailable("the signer's key could not be fetched; retry") from None
    except FetchFailed as exc:
        if exc.status >= 500 or exc.status == 429:
            log.info("key %s: HTTP %d", key_id, exc.status)
            raise KeyTemporarilyUnavailable(
                "the signer's key could not be fetched; retry"
            ) from None
        log.info("key %s: HTTP %d", key_id, exc.status)
        raise UnknownKey("the signer's key could not be fetched") from None
    except (RemoteError, ProtocolError) as exc:
        if isinstance(exc, httpsig.BadPublicKey):
            raise
        log.info("key %s unusable: %s", key_id, exc.__class__.__name__)
        raise UnknownKey("the signer's key could not be resolved") from None
    key = CachedKey(fetched.key_id, fetched.owner_uri, load_public_key(fetched.public_key_pem))
    key_cache(services).put(key)
    return key


async def find_key(
    services: Services, key_id: str, *, refresh: bool = False
) -> tuple[CachedKey, bool]:
    """The public key ``key_id`` names, and whether it was fetched just now.

    From memory, then storage, else fetched; ``refresh`` skips both caches.
    """
    if not key_id.startswith(("https://", "http://")):
        raise UnknownKey("keyId is not an http(s) URL")
    cache = key_cache(services)
    if not refresh:
        if (cached := cache.get(key_id)) is not None:
            return cached, False
        stored = await key_loader(services).load(key_id)
        if stored is not None:
            key = CachedKey(key_id, stored.owner_uri, load_public_key(stored.public_key_pem))
            cache.put(key)
            return key, False
    return await _fetch(services, key_id), True


async def verify_signature(
    services: Services, sig: SignatureInput, *, actor: str | None = None
) -> Signer:
    """Verify ``sig`` with its signer's key (refetching a cached key once); who signed it.

    With ``actor`` (the activity's), a cached key known as another actor's is fetched once
    more from its id before the caller refuses: its owner may have been proven since.
    """
    settings = services.settings
    now = services.clock()
    skew = timedelta(seconds=settings.signature_max_skew)
    key, fresh = await find_key(services, sig.key_id)
    try:
        httpsig.verify_request_signature(
            sig, key.public_key, now=now, max_skew=skew, expected_host=settings.domain
        )
    except InvalidSignature:
        if fresh:
            raise
        log.info("signature by %s did not verify with the cached key; refetching", sig.key_id)
        key, fresh = await find_key(services, sig.key_id, refresh=True)
        httpsig.verify_request_signature(
            sig, key.public_key, now=now, max_skew=skew, expected_host=settings.domain
        )
    if actor is not None and key.owner_uri != actor and not fresh:
        log.info("key %s is known as another actor's; refetching for %s", sig.key_id, actor)
        key, _ = await find_key(services, sig.key_id, refresh=True)
        httpsig.verify_request_signature(
            sig, key.public_key, now=now, max_skew=skew, expected_host=settings.domain
        )
    return Signer(key.key_id, key.owner_uri)


def precheck(services: Services, sig: SignatureInput) -> None:
    """The key-free checks (clock, Host), to refuse before fetching anything."""
    httpsig.precheck_request_signature(
        sig,
        now=services.clock(),
        max_skew=timedelta(seconds=services.settings.signature_max_skew),
        expected_host=services.settings.domain,
    )


def parse_request(request: Request, body: bytes) -> SignatureInput:
    """Parse the signature of ``request`` exactly as received (see ``parse_scope``)."""
    return parse_scope(request.scope, body, services_origin(request))


def parse_scope(scope: Scope, body: bytes, origin: str) -> SignatureInput:
    """Parse the signature of the ASGI request ``scope`` exactly as received: raw path and
    query, every header line in order, the body bytes (interop S2, S3, pitfall 3).
    ``origin`` is our public ``scheme://host[:port]``."""
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope.get("path", "/")
    query = scope.get("query_string", b"").decode("latin-1")
    target = f"{path}?{query}" if query else path
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
    return httpsig.parse_request_signature(
        scope.get("method", "GET"), target, headers, body, origin=origin
    )


def services_origin(request: Request) -> str:
    services: Services = request.app.state.services
    return services.urls.base


def is_signed(request: Request) -> bool:
    """Whether the request carries any HTTP signature header."""
    headers = request.headers
    if "signature" in headers or "signature-input" in headers:
        return True
    return headers.get("authorization", "").lower().startswith("signature ")
