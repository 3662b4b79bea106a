"""Authorized fetch: who is GETting our ActivityPub documents, and may they?

The read side (``read.negotiate.verified_fetcher``) awaits ``fetch_guard(request,
services)`` before answering any ActivityPub document except those it serves unguarded
(the instance actor). The guard returns the
verified fetcher's actor id, or None for an unsigned request it lets through; it raises a
``ProblemError`` to refuse:

- a signed GET is always verified: a bad signature is 401, a signer on a blocked domain
  403 (blocked domains are refused before any key is fetched);
- with ``FEDI_TOWN_AUTHORIZED_FETCH`` an unsigned GET is 401, except the instance actor
  (its key must be fetchable unsigned, interop S4) and key documents.

An actor's path also accepts an RFC 9421 signature whose ``@target-uri`` carries the
fragment of the key id served there (``…/users/x#main-key``): Fedify, and Ghost and Hollo
through it, sign their key fetches so. Only the signed target changes; the signature must
still verify.

A route that serves a standalone key document may mark the request with
``request.scope["fedi_town.key_document"] = True`` before calling the guard.

``guard_scope(scope, services, signed=...)`` is the same guard on the bare ASGI scope: the
fast path (``fastpath``) answers kept documents to signed GETs with it, without building a
Starlette ``Request``. Every signed request is still parsed and verified in full; what it
saves is the framework around the check (the request object, its URL and header views).
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.types import Scope

from fedi_town.errors import Forbidden, SignatureError, Unauthorized
from fedi_town.remote import verify
from fedi_town.services import Services
from fedi_town.store import moderation

log = logging.getLogger(__name__)

KEY_DOCUMENT_FLAG = "fedi_town.key_document"


def _exempt(scope: Scope, services: Services) -> bool:
    """Documents served unsigned even under authorized fetch."""
    if scope.get(KEY_DOCUMENT_FLAG):
        return True
    path = scope["path"]
    instance = services.urls.instance_actor()[len(services.urls.base) :]
    return path in (instance, instance + "/")


async def fetch_guard(request: Request, services: Services) -> str | None:
    """Verify the fetcher of an ActivityPub document; its actor id, or None if unsigned."""
    return await guard_scope(request.scope, services, signed=verify.is_signed(request))


async def guard_scope(scope: Scope, services: Services, *, signed: bool) -> str | None:
    """``fetch_guard`` on the ASGI ``scope`` of a request (``signed``: it carries a
    signature header, as ``remote.verify.is_signed`` tells)."""
    path = scope["path"]
    if not signed:
        if services.settings.authorized_fetch and not _exempt(scope, services):
            log.info("fetch guard: refused unsigned GET of %s", path)
            raise Unauthorized("this server requires signed fetches (authorized fetch)")
        return None
    try:
        verifier = services.verifier()
        # Fedify signs a key fetch with the key id as @target-uri, "#main-key" and all
        fragment = services.urls.key_fragment_served_at(path)
        sig = verify.parse_scope(scope, b"", services.urls.base, target_fragment=fragment)
        verify.precheck(verifier, sig)
        if await moderation.blocking(services.store, sig.key_id):
            log.info("fetch guard: refused %s from blocked %s", path, sig.key_id)
            raise Forbidden("refused by this server's moderation")
        signer = await verify.verify_signature(verifier, sig)
    except SignatureError as exc:
        services.metrics.signature_failure("fetch", exc.__class__.__name__)
        log.info("fetch guard: refused GET of %s: %s", path, exc.__class__.__name__)
        raise Unauthorized(f"HTTP signature refused: {exc.__class__.__name__}") from None
    if await moderation.blocking(services.store, signer.owner_uri):
        log.info("fetch guard: refused %s to blocked %s", path, signer.owner_uri)
        raise Forbidden("refused by this server's moderation")
    return signer.owner_uri
