"""Verifying signed requests: from a received request to "this was signed by actor X".

    verify_signature(verifier, sig)  ->  Signer(key_id, owner_uri)

The pure verifier (``protocol.httpsig``) checks bytes; this module finds the key. Keys are
looked up in a bounded in-memory LRU, then ``remote_keys`` (``remote.key_cache``), then
fetched (``remote.actors.fetch_key``). When a cached key does not verify, the key is
fetched once more and tried again: that is how a rotated key is picked up (interop S4).
Fetch failures become ``UnknownKey`` (401), except those that may pass (no answer, 5xx,
429), which are a ``KeyTemporarilyUnavailable`` (503) so the sender retries, as Mastodon
4.5.4+ answers.

``verifier`` is a ``Verifier``, handed down by the caller (``Services.verifier()``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.types import Scope

from fedi_town.errors import ProblemError, ProtocolError, RemoteError
from fedi_town.metrics import OFF, Metrics
from fedi_town.protocol import httpsig
from fedi_town.protocol.httpsig import InvalidSignature, SignatureInput, UnknownKey
from fedi_town.protocol.keys import load_public_key
from fedi_town.remote import actors as remote_actors
from fedi_town.remote.actors import Fetcher
from fedi_town.remote.errors import FetchFailed, RemoteUnreachable
from fedi_town.remote.key_cache import CachedKey, KeyCache, KeyLoader

log = logging.getLogger(__name__)


class KeyTemporarilyUnavailable(ProblemError):
    """The signer's key could not be fetched right now; the sender should retry (503)."""

    status = 503
    title = "Service Unavailable"


@dataclass(frozen=True)
class Signer:
    """Who signed a request: the key and the actor that owns it."""

    key_id: str
    owner_uri: str


@dataclass(frozen=True, eq=False)
class Verifier:
    """What verifying a signature works with."""

    keys: KeyCache
    loader: KeyLoader
    #: how to fetch a key; called only when a key is neither in memory nor stored
    fetcher: Callable[[], Fetcher]
    clock: Callable[[], datetime]
    max_skew: timedelta
    #: our host: a signature must cover it (``protocol.httpsig``)
    domain: str
    #: counts where keys were found (``Services.metrics``)
    metrics: Metrics = OFF


async def _fetch(verifier: Verifier, key_id: str) -> CachedKey:
    try:
        fetched = await remote_actors.fetch_key(verifier.fetcher(), key_id)
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
    verifier.keys.put(key)
    return key


async def find_key(
    verifier: Verifier, key_id: str, *, refresh: bool = False
) -> tuple[CachedKey, bool]:
    """The public key ``key_id`` names, and whether it was fetched just now.

    From memory, then storage, else fetched; ``refresh`` skips both caches.
    """
    if not key_id.startswith(("https://", "http://")):
        raise UnknownKey("keyId is not an http(s) URL")
    cache = verifier.keys
    if not refresh:
        if (cached := cache.get(key_id)) is not None:
            verifier.metrics.key_cache("memory")
            return cached, False
        stored = await verifier.loader.load(key_id)
        if stored is not None:
            key = CachedKey(key_id, stored.owner_uri, load_public_key(stored.public_key_pem))
            cache.put(key)
            verifier.metrics.key_cache("stored")
            return key, False
    verifier.metrics.key_cache("fetched")
    return await _fetch(verifier, key_id), True


async def verify_signature(
    verifier: Verifier, sig: SignatureInput, *, actor: str | None = None
) -> Signer:
    """Verify ``sig`` with its signer's key (refetching a cached key once); who signed it.

    With ``actor`` (the activity's), a cached key known as another actor's is fetched once
    more from its id before the caller refuses: its owner may have been proven since.
    """
    now = verifier.clock()
    skew, domain = verifier.max_skew, verifier.domain
    key, fresh = await find_key(verifier, sig.key_id)
    try:
        httpsig.verify_request_signature(
            sig, key.public_key, now=now, max_skew=skew, expected_host=domain
        )
    except InvalidSignature:
        if fresh:
            raise
        log.info("signature by %s did not verify with the cached key; refetching", sig.key_id)
        key, fresh = await find_key(verifier, sig.key_id, refresh=True)
        httpsig.verify_request_signature(
            sig, key.public_key, now=now, max_skew=skew, expected_host=domain
        )
    if actor is not None and key.owner_uri != actor and not fresh:
        log.info("key %s is known as another actor's; refetching for %s", sig.key_id, actor)
        key, _ = await find_key(verifier, sig.key_id, refresh=True)
        httpsig.verify_request_signature(
            sig, key.public_key, now=now, max_skew=skew, expected_host=domain
        )
    return Signer(key.key_id, key.owner_uri)


def precheck(verifier: Verifier, sig: SignatureInput) -> None:
    """The key-free checks (clock, Host), to refuse before fetching anything."""
    httpsig.precheck_request_signature(
        sig, now=verifier.clock(), max_skew=verifier.max_skew, expected_host=verifier.domain
    )


def parse_request(
    request: Request, body: bytes, origin: str, *, target_fragment: str | None = None
) -> SignatureInput:
    """Parse the signature of ``request`` exactly as received (see ``parse_scope``)."""
    return parse_scope(request.scope, body, origin, target_fragment=target_fragment)


def parse_scope(
    scope: Scope, body: bytes, origin: str, *, target_fragment: str | None = None
) -> SignatureInput:
    """Parse the signature of the ASGI request ``scope`` exactly as received: raw path and
    query, every header line in order, the body bytes (interop S2, S3, pitfall 3).
    ``origin`` is our public ``scheme://host[:port]``; ``target_fragment`` is the fragment
    of the key id served at this path, if any (``httpsig.parse_request_signature``)."""
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope.get("path", "/")
    query = scope.get("query_string", b"").decode("latin-1")
    target = f"{path}?{query}" if query else path
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
    return httpsig.parse_request_signature(
        scope.get("method", "GET"),
        target,
        headers,
        body,
        origin=origin,
        target_fragment=target_fragment,
    )


def is_signed(request: Request) -> bool:
    """Whether the request carries any HTTP signature header."""
    headers = request.headers
    if "signature" in headers or "signature-input" in headers:
        return True
    return headers.get("authorization", "").lower().startswith("signature ")
