"""Web sessions: a random cookie that names a ``web_sessions`` row, and the CSRF tokens.

- The cookie holds 256 random bits; the database holds only their SHA-256, so a copy of the
  database signs nobody in. Over https it is ``__Host-ftown_session``: ``Secure``, no
  ``Domain``, ``Path=/``; always ``HttpOnly`` and ``SameSite=Lax`` (a link from a customer's
  e-mail still opens the app signed in; a form posted from another site does not carry it).
  Plain http (a loopback test instance) drops ``Secure``, which browsers would refuse there.
- Signing in always makes a new session id (rotation): whatever session cookie the browser had
  before, planted or not, is ended and never becomes signed in (no session fixation).
- A session ends after ``IDLE_MS`` without use or ``ABSOLUTE_MS`` after sign-in, whichever
  comes first; "sign out everywhere" deletes every row of the person.
- CSRF: every form carries a token that is an HMAC of the session secret, so it cannot be
  guessed without the cookie and needs no storage. Forms shown before sign-in (sign-in,
  invite) use a separate random ``ftown_pre`` cookie the same way (double submit). On top,
  a POST whose ``Origin`` (or ``Sec-Fetch-Site``) says another site is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from fedi_town.api.auth import hash_token
from fedi_town.services import Services
from fedi_town.settings import Settings
from fedi_town.store import people
from fedi_town.store.people import Person, WebSession

IDLE_MS = 30 * 24 * 3600 * 1000
ABSOLUTE_MS = 90 * 24 * 3600 * 1000
#: A session's last use is written at most this often (one write per page would be a lot
#: for SQLite on a phone that refreshes).
TOUCH_EVERY_MS = 5 * 60 * 1000
PRE_COOKIE_MAX_AGE = 2 * 3600


def is_https(settings: Settings) -> bool:
    return settings.base_url.startswith("https://")


def session_cookie(settings: Settings) -> str:
    return "__Host-ftown_session" if is_https(settings) else "ftown_session"


def pre_cookie(settings: Settings) -> str:
    return "__Host-ftown_pre" if is_https(settings) else "ftown_pre"


def set_cookie(
    response: Response, settings: Settings, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=is_https(settings),
        httponly=True,
        samesite="lax",
    )


def clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(name, path="/", secure=is_https(settings), httponly=True, samesite="lax")


def csrf_for(secret: str) -> str:
    """The form token that goes with a session (or pre-session) secret."""
    return hmac.new(secret.encode(), b"fedi-town form", hashlib.sha256).hexdigest()


def token_matches(expected: str | None, given: object) -> bool:
    """Whether a posted token is the expected one, compared in constant time."""
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def csrf_matches(secret: str | None, token: object) -> bool:
    """Whether ``token`` is the form token of ``secret`` (a session's or pre-session's)."""
    return bool(secret) and token_matches(csrf_for(secret or ""), token)


def same_origin(request: Request, settings: Settings) -> bool:
    """False when the browser says the request comes from another site (``Origin`` other
    than ours, or ``Sec-Fetch-Site: cross-site``); True when it says nothing (old browsers,
    non-browser clients, which the CSRF token still covers)."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    ours = urlsplit(settings.base_url)
    theirs = urlsplit(origin)
    return (theirs.scheme, theirs.netloc.lower()) == (ours.scheme, ours.netloc.lower())


async def start(services: Services, person: Person, response: Response, user_agent: str) -> str:
    """Sign ``person`` in with a brand-new session id set as the cookie on ``response``;
    returns the new CSRF token. The caller ends the browser's previous session, if any."""
    secret = secrets.token_urlsafe(32)
    now = services.now_ms()
    await people.create_session(
        services.store,
        id_hash=hash_token(secret),
        person_id=person.id,
        now=now,
        expires_at=now + IDLE_MS,
        user_agent=user_agent,
    )
    settings = services.settings
    set_cookie(response, settings, session_cookie(settings), secret, ABSOLUTE_MS // 1000)
    clear_cookie(response, settings, pre_cookie(settings))
    return csrf_for(secret)


def session_secret(request: Request, settings: Settings) -> str | None:
    value = request.cookies.get(session_cookie(settings))
    return value if value and len(value) <= 200 else None


async def current(request: Request, services: Services) -> tuple[WebSession, Person, str] | None:
    """The signed-in session of this request, its person and the session secret; None when
    there is none or it has expired. Refreshes the idle deadline now and then."""
    secret = session_secret(request, services.settings)
    if secret is None:
        return None
    now = services.now_ms()
    found = await people.session_and_person(services.store, hash_token(secret), now=now)
    if found is None:
        return None
    session, person = found
    if now - session.last_seen_at > TOUCH_EVERY_MS:
        expires = min(now + IDLE_MS, session.created_at + ABSOLUTE_MS)
        await people.touch_session(services.store, session.id_hash, now=now, expires_at=expires)
    return session, person, secret


async def end_current(
    request: Request, services: Services, response: Response | None = None
) -> None:
    """End this browser's session row; clear its cookie on ``response`` when given (when
    not, the caller sets a new one)."""
    secret = session_secret(request, services.settings)
    if secret is not None:
        await people.end_session(services.store, hash_token(secret))
    if response is not None:
        clear_cookie(response, services.settings, session_cookie(services.settings))


def pre_secret(request: Request, settings: Settings) -> tuple[str, bool]:
    """The anonymous forms' secret from the ``ftown_pre`` cookie, or a new one (True: set it
    on the response with ``set_pre``)."""
    value = request.cookies.get(pre_cookie(settings))
    if value and 20 <= len(value) <= 100:
        return value, False
    return secrets.token_urlsafe(32), True


def set_pre(response: Response, settings: Settings, secret: str) -> None:
    set_cookie(response, settings, pre_cookie(settings), secret, PRE_COOKIE_MAX_AGE)
