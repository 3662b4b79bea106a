"""Access tokens of the Mastodon client API, and the errors in Mastodon's shape.

A token is 256 random bits (``ftmasto_`` + 43 characters); only its SHA-256 is stored, the
lookup is by that hash and the found hash is compared again with ``hmac.compare_digest``.
A token acts as the one business its owner picked on the consent page, never another, and
only while the person who allowed it may still act for that business; an app's own token
(``client_credentials``) acts as nobody and reaches only public answers.

Every handler is wrapped by ``endpoint``: it resolves the token (401 when missing, unknown
or revoked; the address's count of wrong tokens is the admin API's, ``api.auth``), checks
the scope (403), and turns any ``ProblemError`` into Mastodon's ``{"error": "..."}`` body
with the same status (422 for validation, 404 for what this business cannot see).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response

from fedi_town.api.auth import auth_failures, hash_token, refuse_if_throttled
from fedi_town.errors import (
    Forbidden,
    ProblemError,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
)
from fedi_town.mastodon.scopes import covers
from fedi_town.services import Services
from fedi_town.store import businesses, people
from fedi_town.store import oauth as oauth_store
from fedi_town.store.businesses import Business

log = logging.getLogger(__name__)

TOKEN_PREFIX = "ftmasto_"  # noqa: S105 (a prefix, not a secret)
#: A token's last use is written at most this often.
TOUCH_EVERY_MS = 5 * 60 * 1000


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Grant:
    """What a request's token allows: the business it acts as (None for an app's own
    token) and its scopes."""

    token_id: int
    app_id: int
    app_name: str
    app_website: str | None
    business: Business | None
    scopes: list[str]

    def account(self) -> Business:
        """The business, or 422 as Mastodon answers an app token on a user's endpoint."""
        if self.business is None:
            raise Unprocessable("This method requires an authenticated user")
        return self.business


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """Mastodon's error body: ``{"error": "..."}``."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _message(exc: ProblemError) -> str:
    if exc.status == 422 and exc.errors:
        details = "; ".join(
            f"{str(e.get('pointer', '')).strip('/') or 'body'} {e.get('message', '')}".strip()
            for e in exc.errors
            if isinstance(e, dict)
        )
        return f"Validation failed: {details}" if details else exc.detail
    return exc.detail


def problem_as_error(exc: ProblemError) -> Response:
    headers = None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    return error_response(exc.status, _message(exc), headers)


def bearer(request: HTTPConnection) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def grant_for(
    request: HTTPConnection, services: Services, token: str | None = None
) -> Grant | None:
    """The request's grant (from ``token``, else its ``Authorization`` header); None
    without a token; 401 for a token that is not (or no longer) good; 429 for an address
    that sent too many wrong ones lately."""
    token = token or bearer(request)
    if token is None:
        return None
    address = refuse_if_throttled(request, services)
    grant = await grant_of_token(services, token)
    if grant is None:
        auth_failures(services).failed(address)
        raise Unauthorized("The access token is invalid")
    return grant


async def grant_of_token(services: Services, token: str) -> Grant | None:
    """The grant of ``token``, or None when it is not (or no longer) good; a stream asks
    again now and then, so a revoked token's connections end."""
    digest = hash_token(token)
    found = await oauth_store.token_by_hash(services.store, digest) if len(token) < 200 else None
    business = None
    if found is not None:
        stored, stored_hash = found
        if not hmac.compare_digest(stored_hash, digest):
            found = None
        elif stored.business_id is not None:
            business = await businesses.by_id(services.store, stored.business_id)
            if business is None or business.deleted_at is not None or business.kind != "business":
                found = None
            elif not await _still_allowed(services, stored.person_id, stored.business_id):
                found = None
    if found is None:
        return None
    now = services.now_ms()
    if stored.last_used_at is None or now - stored.last_used_at > TOUCH_EVERY_MS:
        await oauth_store.touch_token(services.store, stored.id, now=now)
    return Grant(
        token_id=stored.id,
        app_id=stored.app_id,
        app_name=stored.app_name,
        app_website=stored.app_website,
        business=business,
        scopes=stored.scopes,
    )


async def _still_allowed(services: Services, person_id: int | None, business_id: int) -> bool:
    """Whether the person who let the app in may still act for the business: not disabled,
    and still one of its people (or the instance admin). Removing someone signs out the
    apps they let in."""
    if person_id is None:
        return False
    person = await people.by_id(services.store, person_id)
    if person is None or person.disabled_at is not None:
        return False
    return person.is_admin or person.business_id == business_id


Handler = Callable[[Request, Grant | None], Awaitable[Response]]


def endpoint(
    needs: str | None = None, *, token: bool = True
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler: resolve the token (required unless ``token=False``), check that it
    covers scope ``needs``, and answer errors in Mastodon's shape."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            services: Services = request.app.state.services
            try:
                grant = await grant_for(request, services)
                if grant is None and token:
                    raise Unauthorized("The access token is invalid")
                if grant is not None and needs is not None and not covers(grant.scopes, needs):
                    raise Forbidden("This action is outside the authorized scopes")
                return await handler(request, grant)
            except ProblemError as exc:
                return problem_as_error(exc)

        run.__name__ = handler.__name__
        run.__doc__ = handler.__doc__
        return run

    return wrap


def json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer as Mastodon's API sends it (never cached by a shared cache)."""
    merged = {"Cache-Control": "private, no-store", **(headers or {})}
    return JSONResponse(data, status_code=status, headers=merged)
