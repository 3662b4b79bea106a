"""OAuth 2 as Mastodon serves it, for apps to sign in as a business:

    POST /api/v1/apps                           register: client_id and client_secret
    GET  /api/v1/apps/verify_credentials        the app behind a token
    GET  /oauth/authorize, POST /oauth/authorize
                                                the consent page (``webapp/authorize.py``)
    POST /oauth/token                           authorization_code (PKCE S256 honoured),
                                                client_credentials
    POST /oauth/revoke                          RFC 7009: always 200 for a known client
    GET  /.well-known/oauth-authorization-server   RFC 8414 metadata

Codes live ``CODE_TTL_MS`` and are spent once; a client with no secret must have used PKCE.
One address may register ``MAX_APPS`` apps per ``APPS_WINDOW_S`` (429 past it); a wrong
client secret counts with the admin API's wrong tokens (``api.auth.AuthFailures``).
The token endpoint answers errors as RFC 6749 says (``{"error": "invalid_grant",
"error_description": ...}``), which is what Mastodon does there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi_town.api.auth import auth_failures, hash_token
from fedi_town.errors import ProblemError, TooManyRequests
from fedi_town.mastodon import params, scopes
from fedi_town.mastodon.auth import (
    TOKEN_PREFIX,
    Grant,
    endpoint,
    json,
    new_secret,
    problem_as_error,
)
from fedi_town.mastodon.push import vapid_key
from fedi_town.services import Services
from fedi_town.store import oauth as oauth_store
from fedi_town.store.businesses import Business
from fedi_town.store.oauth import OAuthApp
from fedi_town.store.people import Person

log = logging.getLogger(__name__)

OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE_TTL_MS = 10 * 60 * 1000
MAX_PARAMS_BYTES = 64 * 1024
MAX_NAME = 200
MAX_REDIRECT_URIS = 10
MAX_URI = 2000
MAX_APPS = 30
APPS_WINDOW_S = 300.0


class Registrations:
    """Apps registered per client address, in fixed windows of ``APPS_WINDOW_S``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[str, tuple[float, int]] = {}

    def allow(self, address: str) -> float:
        """0.0 and counted when ``address`` may register one more app; else seconds to wait."""
        now = self._clock()
        if len(self._seen) >= 10_000:
            self._seen = {a: v for a, v in self._seen.items() if now - v[0] < APPS_WINDOW_S}
        start, count = self._seen.get(address, (now, 0))
        if now - start >= APPS_WINDOW_S:
            start, count = now, 0
        if count >= MAX_APPS:
            return start + APPS_WINDOW_S - now
        self._seen[address] = (start, count + 1)
        return 0.0


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else ""


class OAuthError(Exception):
    """An RFC 6749 error answer: ``code`` (``invalid_grant``, ...) and a sentence."""

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status


def _oauth_error(exc: OAuthError) -> Response:
    return JSONResponse(
        {"error": exc.code, "error_description": exc.description},
        status_code=exc.status,
        headers={"Cache-Control": "no-store"},
    )


def valid_redirect_uri(uri: str) -> bool:
    """An absolute URI without a fragment (an app's own scheme such as ``tusky://oauth``
    is fine), or the out-of-band one; never ``javascript:`` or ``data:``."""
    if uri == OOB:
        return True
    if len(uri) > MAX_URI or any(c.isspace() for c in uri) or "#" in uri:
        return False
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if not scheme or scheme in ("javascript", "data", "vbscript", "file"):
        return False
    if scheme in ("http", "https"):
        return bool(parts.netloc)
    return bool(parts.netloc or parts.path)


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier`` (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def app_json(app: OAuthApp, secret: str | None = None, vapid: str = "") -> dict[str, Any]:
    """Mastodon's Application entity (the credential one with ``secret``); ``vapid`` is
    the instance's VAPID public key (``mastodon/push.py``)."""
    data: dict[str, Any] = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes,
        "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": app.redirect_uris,
        "vapid_key": vapid,
    }
    if secret is not None:
        data["client_id"] = app.client_id
        data["client_secret"] = secret
        data["client_secret_expires_at"] = 0
    return data


@endpoint(token=False)
async def create_app(request: Request, grant: Grant | None) -> Response:
    services: Services = request.app.state.services
    wait = services.parts.get(Registrations, Registrations).allow(_address(request))
    if wait:
        raise TooManyRequests("Too many requests", retry_after=max(1, math.ceil(wait)))
    values = await params.read(request, MAX_PARAMS_BYTES)
    name = " ".join(params.text(values, "client_name").split())
    if not name or len(name) > MAX_NAME:
        return _validation("client_name can't be blank (and at most 200 characters)")
    raw_uris = values.get("redirect_uris", OOB)
    uris = params.strings(values, "redirect_uris") if isinstance(raw_uris, list) else None
    if uris is None:
        uris = [u for u in params.text(values, "redirect_uris", OOB).split() if u]
    if not uris or len(uris) > MAX_REDIRECT_URIS or not all(map(valid_redirect_uri, uris)):
        return _validation("redirect_uris must be absolute URIs without a fragment")
    scope_text = params.text(values, "scopes", "")
    asked = scopes.parse(scope_text)
    if asked is None:
        return _validation("scopes holds a scope this server does not know")
    website = params.text(values, "website").strip() or None
    if website is not None and (
        len(website) > MAX_URI or urlsplit(website).scheme not in ("http", "https")
    ):
        return _validation("website must be an http(s) URL")
    secret = new_secret()
    app = await oauth_store.create_app(
        services.store,
        client_id=new_secret(),
        secret_hash=hash_token(secret),
        name=name,
        website=website,
        redirect_uris=uris,
        scopes=asked,
        now=services.now_ms(),
    )
    log.info("mastodon API: app %d registered", app.id)
    return json(app_json(app, secret, (await vapid_key(services)).public))


def _validation(message: str) -> Response:
    return JSONResponse({"error": f"Validation failed: {message}"}, status_code=422)


@endpoint()
async def verify_app(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    services: Services = request.app.state.services
    app = await oauth_store.app_by_id(services.store, grant.app_id)
    assert app is not None
    return json(app_json(app, vapid=(await vapid_key(services)).public))


async def issue_code(
    services: Services,
    *,
    app: OAuthApp,
    person: Person,
    business: Business,
    granted: list[str],
    redirect_uri: str,
    code_challenge: str | None,
) -> str:
    """A new authorization code for ``app`` to act as ``business`` with ``granted``."""
    code = new_secret()
    now = services.now_ms()
    await oauth_store.create_code(
        services.store,
        code_hash=hash_token(code),
        app_id=app.id,
        person_id=person.id,
        business_id=business.id,
        scopes=granted,
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        now=now,
        expires_at=now + CODE_TTL_MS,
    )
    log.info("mastodon API: person %d let app %d act as %s", person.id, app.id, business.username)
    return code


def _client_credentials(request: Request, values: dict[str, Any]) -> tuple[str, str | None]:
    """client_id and client_secret from HTTP Basic or the parameters."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() == "basic" and encoded:
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except ValueError:
            raise OAuthError("invalid_client", "Client authentication failed", 401) from None
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return params.text(values, "client_id"), (params.text(values, "client_secret") or None)


async def _client(
    request: Request,
    services: Services,
    client_id: str,
    secret: str | None,
    *,
    need_secret: bool,
) -> OAuthApp:
    failures = auth_failures(services)
    address = _address(request)
    wait = failures.wait(address)
    if wait:
        raise TooManyRequests("Too many requests", retry_after=max(1, math.ceil(wait)))
    app = await oauth_store.app_by_client_id(services.store, client_id) if client_id else None
    good = app is not None
    if app is not None and secret is not None:
        good = hmac.compare_digest(app.secret_hash, hash_token(secret))
    elif secret is None and need_secret:
        good = False
    if app is None or not good:
        failures.failed(address)
        raise OAuthError("invalid_client", "Client authentication failed", 401)
    return app


def token_json(token: str, granted: list[str], now_ms: int) -> dict[str, Any]:
    return {
        "access_token": token,
        "token_type": "Bearer",
        "scope": " ".join(granted),
        "created_at": now_ms // 1000,
    }


async def token(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        values = await params.read(request, MAX_PARAMS_BYTES)
        client_id, secret = _client_credentials(request, values)
        grant_type = params.text(values, "grant_type")
        if grant_type == "authorization_code":
            return await _code_grant(request, services, values, client_id, secret)
        if grant_type == "client_credentials":
            app = await _client(request, services, client_id, secret, need_secret=True)
            asked = scopes.parse(params.text(values, "scope") or None)
            if asked is None or not scopes.subset(asked, app.scopes):
                raise OAuthError("invalid_scope", "The requested scope is invalid or unknown")
            return await _new_token(services, app, None, None, asked)
        raise OAuthError("unsupported_grant_type", "The grant type is not supported here")
    except OAuthError as exc:
        return _oauth_error(exc)
    except ProblemError as exc:
        return problem_as_error(exc)


async def _code_grant(
    request: Request,
    services: Services,
    values: dict[str, Any],
    client_id: str,
    secret: str | None,
) -> Response:
    verifier = params.text(values, "code_verifier") or None
    app = await _client(request, services, client_id, secret, need_secret=False)
    code_text = params.text(values, "code")
    invalid = OAuthError(
        "invalid_grant",
        "The provided authorization grant is invalid, expired, revoked, does not match the "
        "redirection URI used in the authorization request, or was issued to another client.",
    )
    if not code_text or len(code_text) > 200:
        raise invalid
    code = await oauth_store.spend_code(
        services.store, hash_token(code_text), app.id, now=services.now_ms()
    )
    if code is None:
        raise invalid
    redirect_uri = params.text(values, "redirect_uri") or code.redirect_uri
    if redirect_uri != code.redirect_uri:
        raise invalid
    if code.code_challenge is not None:
        if verifier is None or not hmac.compare_digest(s256(verifier), code.code_challenge):
            raise invalid
    elif secret is None:
        raise OAuthError("invalid_client", "Client authentication failed", 401)
    return await _new_token(services, app, code.business_id, code.person_id, code.scopes)


async def _new_token(
    services: Services,
    app: OAuthApp,
    business_id: int | None,
    person_id: int | None,
    granted: list[str],
) -> Response:
    access = new_secret(TOKEN_PREFIX)
    now = services.now_ms()
    await oauth_store.create_token(
        services.store,
        token_hash=hash_token(access),
        app_id=app.id,
        business_id=business_id,
        person_id=person_id,
        scopes=granted,
        now=now,
    )
    log.info("mastodon API: token for app %d (business %s)", app.id, business_id)
    return JSONResponse(token_json(access, granted, now), headers={"Cache-Control": "no-store"})


async def revoke(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        values = await params.read(request, MAX_PARAMS_BYTES)
        client_id, secret = _client_credentials(request, values)
        app = await _client(request, services, client_id, secret, need_secret=False)
        given = params.text(values, "token")
        if given and len(given) < 200:
            await oauth_store.revoke_by_hash(
                services.store, hash_token(given), app.id, now=services.now_ms()
            )
        return JSONResponse({})
    except OAuthError as exc:
        return _oauth_error(exc)
    except ProblemError as exc:
        return problem_as_error(exc)


async def server_metadata(request: Request) -> Response:
    """RFC 8414 metadata, as Mastodon 4.3+ serves it."""
    services: Services = request.app.state.services
    base = services.settings.base_url.rstrip("/")
    return JSONResponse(
        {
            "issuer": base + "/",
            "service_documentation": "https://docs.joinmastodon.org/",
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "app_registration_endpoint": f"{base}/api/v1/apps",
            "scopes_supported": [*scopes.TOP, *scopes.GRANULAR],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "fragment"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
        }
    )


routes = [
    Route("/api/v1/apps", create_app, methods=["POST"]),
    Route("/api/v1/apps/verify_credentials", verify_app, methods=["GET"]),
    Route("/oauth/token", token, methods=["POST"]),
    Route("/oauth/revoke", revoke, methods=["POST"]),
    Route("/.well-known/oauth-authorization-server", server_metadata, methods=["GET"]),
]
