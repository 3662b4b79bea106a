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
"""

from __future__ import annotations

import logging

from starlette.requests import Request

from fedi_town.errors import Forbidden, SignatureError, Unauthorized
from fedi_town.remote import verify
from fedi_town.services import Services
from fedi_town.store import moderation

log = logging.getLogger(__name__)

KEY_DOCUMENT_FLAG = "fedi_town.key_document"


def _exempt(request: Request, services: Services) -> bool:
    """Documents served unsigned even under authorized fetch."""
    if request.scope.get(KEY_DOCUMENT_FLAG):
        return True
    path = request.url.path
    instance = services.urls.instance_actor()[len(services.urls.base) :]
    return path in (instance, instance + "/")


async def fetch_guard(request: Request, services: Services) -> str | None:
    """Verify the fetcher of an ActivityPub document; its actor id, or None if unsigned."""
    if not verify.is_signed(request):
        if services.settings.authorized_fetch and not _exempt(request, services):
            log.info("fetch guard: refused unsigned GET of %s", request.url.path)
            raise Unauthorized("this server requires signed fetches (authorized fetch)")
        return None
    try:
        verifier = services.verifier()
        # Fedify signs a key fetch with the key id as @target-uri, "#main-key" and all
        fragment = services.urls.key_fragment_served_at(request.url.path)
        sig = verify.parse_request(request, b"", services.urls.base, target_fragment=fragment)
        verify.precheck(verifier, sig)
        if await moderation.blocking(services.store, sig.key_id):
            log.info("fetch guard: refused %s from blocked %s", request.url.path, sig.key_id)
            raise Forbidden("refused by this server's moderation")
        signer = await verify.verify_signature(verifier, sig)
    except SignatureError as exc:
        services.metrics.signature_failure("fetch", exc.__class__.__name__)
        log.info("fetch guard: refused GET of %s: %s", request.url.path, exc.__class__.__name__)
        raise Unauthorized(f"HTTP signature refused: {exc.__class__.__name__}") from None
    if await moderation.blocking(services.store, signer.owner_uri):
        log.info("fetch guard: refused %s to blocked %s", request.url.path, signer.owner_uri)
        raise Forbidden("refused by this server's moderation")
    return signer.owner_uri
