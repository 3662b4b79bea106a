"""Signing in and out, and accepting an invite.

    GET  /login                 the sign-in form (password; a passkey button where the
                                browser has passkeys: webapp/passkeys.py)
    POST /login                 rate-limited: ``MAX_PER_LOGIN`` wrong passwords for one
                                sign-in name, ``MAX_PER_ADDRESS`` from one address, per
                                ``WINDOW_MS``; then 429 with a sentence and Retry-After
    POST /logout                this browser
    GET  /invite/{token}        choose a sign-in name and password (or a new password)
    POST /invite/{token}        single use: the invite is spent in the same transaction that
                                creates the person; a used, revoked or expired link says so
    GET  /app, /admin           to this person's home

Every sign-in starts a new session (``sessions.start``) and ends the one the browser had.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api.auth import hash_token
from fedi_town.errors import Forbidden, NotFound
from fedi_town.services import Services
from fedi_town.store import businesses
from fedi_town.store import people as people_store
from fedi_town.store.people import Invite, Person
from fedi_town.webapp import passwords, sessions
from fedi_town.webapp.guard import Redirect, home_url, services_of, signed_in
from fedi_town.webapp.render import html, parse_form, read_form, see_other

log = logging.getLogger(__name__)

WINDOW_MS = 15 * 60 * 1000
MAX_PER_LOGIN = 5
MAX_PER_ADDRESS = 20
LOGIN_RE = re.compile(r"\A[a-z0-9][a-z0-9._@+-]{1,58}[a-z0-9]\Z")
ROLE_WORDS = {"owner": "an owner", "staff": "a member of staff", "admin": "the instance admin"}


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else ""


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path inside the app (or back to an app's consent
    page, ``webapp/authorize.py``), never another site."""
    if (
        value
        and value.startswith(("/app", "/oauth/authorize?"))
        and not value.startswith("//")
        and "\\" not in value
    ):
        return value
    return "/app"


def _anonymous(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> Response:
    """An anonymous form page, with its double-submit CSRF cookie."""
    settings = services_of(request).settings
    secret, new = sessions.pre_secret(request, settings)
    response = html(
        request, template, {"csrf_token": sessions.csrf_for(secret), **context}, status=status
    )
    if new:
        sessions.set_pre(response, settings, secret)
    return response


async def _anonymous_form(request: Request) -> Any:
    form = await parse_form(request)
    secret = request.cookies.get(sessions.pre_cookie(services_of(request).settings))
    token = form.get("csrf")
    if not sessions.csrf_matches(secret, token):
        raise Forbidden("This form had expired. Go back, reload the page and try again.")
    return form


async def login_page(request: Request) -> Response:
    if await sessions.current(request, services_of(request)) is not None:
        return see_other(request, safe_next(request.query_params.get("next")))
    return _anonymous(
        request, "app/login.html", {"next": safe_next(request.query_params.get("next"))}
    )


async def _wait_ms(services: Services, address: str, login: str) -> int:
    now = services.now_ms()
    keys = [f"addr:{address}", f"login:{login}"]
    counts = await people_store.failures(services.store, keys, now=now, window_ms=WINDOW_MS)
    over = counts.get(keys[0], 0) >= MAX_PER_ADDRESS or counts.get(keys[1], 0) >= MAX_PER_LOGIN
    return WINDOW_MS if over else 0


async def login(request: Request) -> Response:
    services = services_of(request)
    form = await _anonymous_form(request)
    login_name = str(form.get("login", "")).strip().lower()[:100]
    password = str(form.get("password", ""))[: passwords.MAX_LENGTH + 1]
    next_url = safe_next(str(form.get("next", "")))
    address = _address(request)
    context = {"next": next_url, "login": login_name}
    if await _wait_ms(services, address, login_name):
        minutes = math.ceil(WINDOW_MS / 60000)
        response = _anonymous(
            request,
            "app/login.html",
            {
                **context,
                "problem": f"Too many wrong passwords. Wait {minutes} minutes and try again, "
                "or ask an owner (or the instance admin) for a new invite link.",
            },
            status=429,
        )
        response.headers["Retry-After"] = str(WINDOW_MS // 1000)
        return response
    person = await people_store.by_login(services.store, login_name) if login_name else None
    usable = person is not None and person.disabled_at is None
    stored = person.password_hash if person is not None and usable else None
    if not await passwords.verify_password(stored, password) or person is None:
        now = services.now_ms()
        for key in (f"addr:{address}", f"login:{login_name}"):
            await people_store.record_failure(services.store, key, now=now, window_ms=WINDOW_MS)
        log.info("app sign-in refused from %s", address)
        return _anonymous(
            request,
            "app/login.html",
            {**context, "problem": "That sign-in name and password do not match."},
            status=401,
        )
    await people_store.clear_failures(services.store, f"login:{login_name}")
    if person.password_hash and passwords.needs_rehash(person.password_hash):
        new_hash = await passwords.hash_password(password)
        await people_store.set_password(services.store, person.id, new_hash, now=services.now_ms())
    return await sign_in(request, person, next_url)


async def sign_in(
    request: Request, person: Person, next_url: str, flash: str | None = None
) -> Response:
    """Start a new session for ``person`` (ending the browser's old one) and go on."""
    services = services_of(request)
    response = see_other(request, next_url, flash)
    await sessions.end_current(request, services)
    await people_store.forget_expired(services.store, now=services.now_ms())
    await sessions.start(services, person, response, request.headers.get("user-agent", ""))
    log.info("app sign-in: person %d", person.id)
    return response


async def logout(request: Request) -> Response:
    visitor = await signed_in(request)
    await read_form(request, visitor)
    response = see_other(request, "/login", "You are signed out.")
    await sessions.end_current(request, services_of(request), response)
    return response


async def sign_out_everywhere(request: Request) -> Response:
    visitor = await signed_in(request)
    await read_form(request, visitor)
    services = services_of(request)
    await people_store.end_sessions_of(services.store, visitor.person.id)
    response = see_other(request, "/login", "You are signed out on every device.")
    sessions.clear_cookie(response, services.settings, sessions.session_cookie(services.settings))
    return response


async def _open_invite(request: Request) -> tuple[Invite, Person | None, str]:
    """The invite in the path with the person it renews and its business's name; a page
    that says why when it cannot be used."""
    services = services_of(request)
    token = str(request.path_params["token"])[:100]
    invite = await people_store.invite_by_token_hash(services.store, hash_token(token))
    if invite is None:
        raise NotFound("This invite link is not known here. Check that the whole link was copied.")
    if invite.used_at is not None or invite.expires_at <= services.now_ms():
        raise Redirect("/invite-ended")
    person = None
    if invite.person_id is not None:
        person = await people_store.by_id(services.store, invite.person_id)
        if person is None or person.disabled_at is not None:
            raise Redirect("/invite-ended")
    where = services.settings.instance_name
    if invite.business_id is not None:
        business = await businesses.by_id(services.store, invite.business_id)
        if business is None or business.deleted_at is not None:
            raise Redirect("/invite-ended")
        where = business.display_name or business.username
    return invite, person, where


def _invite_context(invite: Invite, person: Person | None, where: str) -> dict[str, Any]:
    return {
        "where": where,
        "role_words": ROLE_WORDS.get(invite.role, invite.role),
        "renewing": person,
        "min_length": passwords.MIN_LENGTH,
    }


async def invite_page(request: Request) -> Response:
    invite, person, where = await _open_invite(request)
    return _anonymous(request, "app/invite.html", _invite_context(invite, person, where))


def _check_new_person(login: str, display_name: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not LOGIN_RE.match(login):
        errors["login"] = (
            "Use 3 to 60 letters, digits, dots, dashes or @ (an e-mail address works), "
            "starting and ending with a letter or digit."
        )
    if not display_name or len(display_name) > 100:
        errors["display_name"] = (
            "Write the name your colleagues know you by (up to 100 characters)."
        )
    return errors


async def accept_invite(request: Request) -> Response:
    services = services_of(request)
    form = await _anonymous_form(request)
    invite, person, where = await _open_invite(request)
    login_name = str(form.get("login", "")).strip().lower()
    display_name = " ".join(str(form.get("display_name", "")).split())
    password = str(form.get("password", ""))
    errors = {} if person is not None else _check_new_person(login_name, display_name)
    problem = passwords.password_problem(
        password, person.login if person is not None else login_name
    )
    if problem:
        errors["password"] = problem
    elif password != str(form.get("password_again", "")):
        errors["password_again"] = "The two passwords are not the same."  # noqa: S105
    if person is None and "login" not in errors:
        if await people_store.by_login(services.store, login_name) is not None:
            errors["login"] = "That sign-in name is taken; try another."
    if errors:
        context = {
            **_invite_context(invite, person, where),
            "errors": errors,
            "login": login_name,
            "display_name": display_name,
        }
        return _anonymous(request, "app/invite.html", context, status=422)
    password_hash = await passwords.hash_password(password)
    now = services.now_ms()
    async with services.store.transaction():
        if not await people_store.use_invite(services.store, invite.id, now=now):
            raise Redirect("/invite-ended")
        if person is None:
            person = await people_store.create_person(
                services.store,
                business_id=invite.business_id,
                role=invite.role,
                login=login_name,
                display_name=display_name,
                password_hash=password_hash,
                now=now,
            )
            flash = f"Welcome, {person.display_name}. You are signed in."
        else:
            await people_store.set_password(services.store, person.id, password_hash, now=now)
            await people_store.end_sessions_of(services.store, person.id)
            flash = "Your new password is set. Every other device was signed out."
    log.info("invite %d used by person %d", invite.id, person.id)
    return await sign_in(request, person, "/app", flash)


async def invite_ended(request: Request) -> Response:
    return html(
        request,
        "app/message.html",
        {
            "title": "This invite link has ended",
            "message": "It was used already, withdrawn, or it expired. Ask the person who sent "
            "it (an owner, or the instance admin) for a new one.",
        },
        status=410,
    )


async def app_home(request: Request) -> Response:
    visitor = await signed_in(request)
    return see_other(request, await home_url(request, visitor))


async def admin_redirect(request: Request) -> Response:
    return see_other(request, "/app/admin")


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/app/account/sign-out-everywhere", sign_out_everywhere, methods=["POST"]),
    Route("/invite-ended", invite_ended, methods=["GET"]),
    Route("/invite/{token}", invite_page, methods=["GET"]),
    Route("/invite/{token}", accept_invite, methods=["POST"]),
    Route("/app", app_home, methods=["GET"]),
    Route("/admin", admin_redirect, methods=["GET"]),
]
