"""The consent page of the Mastodon client API: an app on the owner's phone asks to act as a
business (``mastodon/oauth.py`` does the rest of OAuth).

    GET  /oauth/authorize   signed in (or through /login and back): the app's name, what it
                            asks to do, and which business it may act as (the person's own;
                            the instance admin picks any)
    POST /oauth/authorize   CSRF-checked: "Allow" → a code to the app's redirect URI (or shown
                            on a page for ``urn:ietf:wg:oauth:2.0:oob``); "Deny" →
                            ``error=access_denied``

An unknown client or a redirect URI the app did not register is said on the page, never
redirected to (RFC 6749 §4.1.2.1); other refusals go back to the app as ``error=...``.
The page's Content-Security-Policy lets the form's redirect reach the app's own URI, as
browsers apply ``form-action`` to redirects after a form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fedi_town.errors import BadRequest, NotFound
from fedi_town.mastodon import scopes
from fedi_town.mastodon.oauth import OOB, issue_code
from fedi_town.store import businesses
from fedi_town.store import oauth as oauth_store
from fedi_town.store.businesses import Business
from fedi_town.store.oauth import OAuthApp
from fedi_town.webapp.guard import Visitor, services_of, signed_in
from fedi_town.webapp.render import APP_HEADERS, page, read_form


@dataclass(frozen=True)
class Ask:
    """A checked authorization request."""

    app: OAuthApp
    redirect_uri: str
    scopes: list[str]
    state: str | None
    code_challenge: str | None


class BackToApp(Exception):
    """Refuse by sending the app its redirect URI with ``error``."""

    def __init__(self, redirect_uri: str, error: str, state: str | None) -> None:
        super().__init__(error)
        self.url = _with_query(redirect_uri, {"error": error, "state": state})


def _with_query(uri: str, values: dict[str, str | None]) -> str:
    query = urlencode({k: v for k, v in values.items() if v is not None})
    return uri + ("&" if urlsplit(uri).query else "?") + query


def _value(values: Any, name: str, limit: int = 2000) -> str:
    value = values.get(name)
    return str(value)[:limit] if value is not None else ""


async def _ask(request: Request, values: Any) -> Ask:
    services = services_of(request)
    client_id = _value(values, "client_id", 200)
    app = await oauth_store.app_by_client_id(services.store, client_id) if client_id else None
    if app is None:
        raise BadRequest("This app is not registered here. Start signing in from the app again.")
    redirect_uri = _value(values, "redirect_uri") or app.redirect_uris[0]
    if redirect_uri not in app.redirect_uris:
        raise BadRequest("This app asked to come back to an address it did not register.")
    state = _value(values, "state", 1000) or None
    if _value(values, "response_type") != "code":
        raise BackToApp(redirect_uri, "unsupported_response_type", state)
    asked = scopes.parse(_value(values, "scope") or None)
    if asked is None or not scopes.subset(asked, app.scopes):
        raise BackToApp(redirect_uri, "invalid_scope", state)
    challenge = _value(values, "code_challenge", 200) or None
    method = _value(values, "code_challenge_method") or ("S256" if challenge else "")
    if challenge is not None and (method != "S256" or not 43 <= len(challenge) <= 128):
        raise BackToApp(redirect_uri, "invalid_request", state)
    return Ask(app, redirect_uri, asked, state, challenge)


async def choices(request: Request, visitor: Visitor) -> list[Business]:
    """The businesses this person may let an app act as."""
    store = services_of(request).store
    if visitor.is_admin:
        found = await businesses.list_all(store)
    elif visitor.person.business_id is not None:
        one = await businesses.by_id(store, visitor.person.business_id)
        found = [one] if one is not None else []
    else:
        found = []
    return [b for b in found if b.kind == "business" and b.deleted_at is None]


def _headers(redirect_uri: str) -> dict[str, str]:
    """The app pages' headers, with the app's redirect target allowed as a form's end."""
    parts = urlsplit(redirect_uri)
    target = (
        f"{parts.scheme}://{parts.netloc}"
        if parts.scheme in ("http", "https")
        else f"{parts.scheme}:"
    )
    policy = APP_HEADERS["Content-Security-Policy"]
    if redirect_uri != OOB:
        policy = policy.replace("form-action 'self'", f"form-action 'self' {target}")
    return {"Content-Security-Policy": policy}


def _back(exc: BackToApp) -> Response:
    return RedirectResponse(exc.url, 302, headers={"Cache-Control": "no-store"})


async def authorize_page(request: Request) -> Response:
    visitor = await signed_in(request)
    try:
        ask = await _ask(request, request.query_params)
    except BackToApp as exc:
        return _back(exc)
    options = await choices(request, visitor)
    if not options:
        raise NotFound("There is no business you could let this app act as.")
    context = {
        "ask": ask,
        "app": ask.app,
        "scope_words": [(s, scopes.describe(s)) for s in ask.scopes],
        "choices": options,
        "hidden": {
            "client_id": ask.app.client_id,
            "redirect_uri": ask.redirect_uri,
            "scope": " ".join(ask.scopes),
            "state": ask.state or "",
            "response_type": "code",
            "code_challenge": ask.code_challenge or "",
            "code_challenge_method": "S256" if ask.code_challenge else "",
        },
    }
    response = page(request, visitor, "app/authorize.html", context)
    response.headers.update(_headers(ask.redirect_uri))
    return response


async def authorize(request: Request) -> Response:
    visitor = await signed_in(request)
    form = await read_form(request, visitor)
    try:
        ask = await _ask(request, form)
        if _value(form, "decision") != "allow":
            raise BackToApp(ask.redirect_uri, "access_denied", ask.state)
    except BackToApp as exc:
        return _back(exc)
    wanted = _value(form, "business", 100).lower()
    business = next(
        (b for b in await choices(request, visitor) if b.username.lower() == wanted), None
    )
    if business is None:
        raise NotFound("There is no business you could let this app act as.")
    code = await issue_code(
        services_of(request),
        app=ask.app,
        person=visitor.person,
        business=business,
        granted=ask.scopes,
        redirect_uri=ask.redirect_uri,
        code_challenge=ask.code_challenge,
    )
    if ask.redirect_uri == OOB:
        context = {"app": ask.app, "code": code, "business": business}
        return page(request, visitor, "app/authorize_code.html", context)
    url = _with_query(ask.redirect_uri, {"code": code, "state": ask.state})
    return RedirectResponse(url, 302, headers={"Cache-Control": "no-store"})


routes = [
    Route("/oauth/authorize", authorize_page, methods=["GET"]),
    Route("/oauth/authorize", authorize, methods=["POST"]),
]
