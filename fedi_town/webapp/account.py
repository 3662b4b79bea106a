"""Your own account: name, password, passkeys, and where you are signed in.

GET  /app/account
POST /app/account/password     the current password, then the new one twice; every
                               other device is signed out and this one gets a new session
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.store import businesses
from fedi_town.store import people as people_store
from fedi_town.webapp import passwords
from fedi_town.webapp.guard import Visitor, services_of, signed_in
from fedi_town.webapp.render import page, read_form
from fedi_town.webapp.signin import sign_in


async def _context(request: Request, visitor: Visitor) -> dict[str, Any]:
    services = services_of(request)
    business = None
    if visitor.person.business_id is not None:
        business = await businesses.by_id(services.store, visitor.person.business_id)
    return {
        "business": business,
        "passkeys": await people_store.passkeys_of(services.store, visitor.person.id),
        "devices": len(
            await people_store.sessions_of(services.store, visitor.person.id, now=services.now_ms())
        ),
        "min_length": passwords.MIN_LENGTH,
        "added": request.query_params.get("added") == "1",
    }


async def account(request: Request) -> Response:
    visitor = await signed_in(request)
    return page(request, visitor, "app/account.html", await _context(request, visitor))


async def change_password(request: Request) -> Response:
    visitor = await signed_in(request)
    form = await read_form(request, visitor)
    services = services_of(request)
    current = str(form.get("current", ""))
    new = str(form.get("password", ""))
    errors: dict[str, str] = {}
    if not await passwords.verify_password(visitor.person.password_hash, current):
        errors["current"] = "That is not your current password."
    problem = passwords.password_problem(new, visitor.person.login)
    if problem:
        errors["password"] = problem
    elif new != str(form.get("password_again", "")):
        errors["password_again"] = "The two passwords are not the same."  # noqa: S105
    if errors:
        context = {**await _context(request, visitor), "errors": errors}
        return page(request, visitor, "app/account.html", context, status=422)
    new_hash = await passwords.hash_password(new)
    async with services.store.transaction():
        await people_store.set_password(
            services.store, visitor.person.id, new_hash, now=services.now_ms()
        )
        await people_store.end_sessions_of(services.store, visitor.person.id)
    return await sign_in(
        request, visitor.person, "/app/account", "Password changed. Other devices were signed out."
    )


routes = [
    Route("/app/account", account, methods=["GET"]),
    Route("/app/account/password", change_password, methods=["POST"]),
]
