"""Who may sign in to the owner's web app: invites and people (described in
schemas/admin-api.openapi.yaml).

    POST   /api/v1/businesses/{username}/invites            {role: owner|staff} -> link
    DELETE /api/v1/businesses/{username}/invites/{id}       the link stops working
    GET    /api/v1/businesses/{username}/people             people and open invites
    DELETE /api/v1/businesses/{username}/people/{id}        removed: signed out, passkeys gone
    POST   /api/v1/businesses/{username}/people/{id}/reset  a new-password link (a forgotten
                                                            password is a new invite)
    POST   /api/v1/admin/invites                            {role: admin} or {role, business}
    GET    /api/v1/admin/people                             the instance admins and invites

An invite is a single-use link with a random 256-bit secret that expires (``INVITE_TTL_MS``,
``RESET_TTL_MS``); only its SHA-256 is stored, so the link is shown once, in this answer.
Managing people needs the admin, an owner token, or a signed-in owner: staff get 403.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api.auth import Caller, hash_token, require_admin, require_business_caller
from fedi_town.errors import Conflict, Forbidden, NotFound, Unprocessable
from fedi_town.protocol.ids import path_id
from fedi_town.protocol.vocabulary import iso8601
from fedi_town.schemas import validate
from fedi_town.services import Services
from fedi_town.store import businesses
from fedi_town.store import people as people_store
from fedi_town.store.businesses import Business
from fedi_town.store.people import Invite, Person
from fedi_town.web import json_response, read_json

#: A new person's invite lasts a week; a new-password link a day.
INVITE_TTL_MS = 7 * 24 * 3600 * 1000
RESET_TTL_MS = 24 * 3600 * 1000


def invite_url(services: Services, token: str) -> str:
    return f"{services.settings.base_url}/invite/{token}"


async def new_invite(
    services: Services,
    *,
    business: Business | None,
    role: str,
    person: Person | None = None,
    created_by: int | None = None,
) -> tuple[Invite, str]:
    """Store an invite and return it with its link (the only time the link exists)."""
    token = secrets.token_urlsafe(32)
    now = services.now_ms()
    ttl = RESET_TTL_MS if person is not None else INVITE_TTL_MS
    invite = await people_store.create_invite(
        services.store,
        token_hash=hash_token(token),
        business_id=business.id if business is not None else None,
        role=role,
        person_id=person.id if person is not None else None,
        created_by=created_by,
        now=now,
        expires_at=now + ttl,
    )
    return invite, invite_url(services, token)


def invite_view(invite: Invite, url: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(invite.id),
        "role": invite.role,
        "for_person": str(invite.person_id) if invite.person_id is not None else None,
        "created_at": iso8601(invite.created_at),
        "expires_at": iso8601(invite.expires_at),
    }
    if url is not None:
        body["url"] = url
    return body


def person_view(person: Person, passkeys: int) -> dict[str, Any]:
    return {
        "id": str(person.id),
        "login": person.login,
        "display_name": person.display_name,
        "role": person.role,
        "created_at": iso8601(person.created_at),
        "passkeys": passkeys,
    }


async def _people_and_invites(services: Services, business_id: int | None) -> dict[str, Any]:
    store = services.store
    found = await people_store.of_business(store, business_id)
    invites = await people_store.pending_invites(store, business_id, now=services.now_ms())
    people = [person_view(p, len(await people_store.passkeys_of(store, p.id))) for p in found]
    return {"people": people, "invites": [invite_view(i) for i in invites]}


async def _managed(request: Request) -> tuple[Services, Business, Caller]:
    services: Services = request.app.state.services
    business, caller = await require_business_caller(
        request, services, request.path_params["username"]
    )
    if not caller.manages_people:
        raise Forbidden("only an owner of this business can manage who signs in")
    return services, business, caller


async def create_invite(request: Request) -> Response:
    services, business, caller = await _managed(request)
    data = await read_json(request, services.settings.max_body_bytes)
    validate("invite", data)
    invite, url = await new_invite(
        services, business=business, role=data["role"], created_by=caller.person_id
    )
    return json_response(invite_view(invite, url), 201)


async def delete_invite(request: Request) -> Response:
    services, business, _caller = await _managed(request)
    invite_id = path_id(request.path_params["id"], "invite")
    if not await people_store.revoke_invite(
        services.store, invite_id, business.id, now=services.now_ms()
    ):
        raise NotFound("no open invite with that id")
    return Response(status_code=204)


async def list_people(request: Request) -> Response:
    services, business, _caller = await _managed(request)
    return json_response(await _people_and_invites(services, business.id))


async def _person_of(services: Services, business: Business, request: Request) -> Person:
    person_id = path_id(request.path_params["id"], "person")
    person = await people_store.by_id(services.store, person_id)
    if person is None or person.business_id != business.id or person.disabled_at is not None:
        raise NotFound("no such person at this business")
    return person


async def remove_person(request: Request) -> Response:
    services, business, _caller = await _managed(request)
    person = await _person_of(services, business, request)
    async with services.store.transaction():
        owners = [
            p
            for p in await people_store.of_business(services.store, business.id)
            if p.role == "owner"
        ]
        if person.role == "owner" and len(owners) == 1:
            raise Conflict("this is the last owner: invite another owner first")
        await people_store.disable(services.store, person.id, now=services.now_ms())
    return Response(status_code=204)


async def reset_person(request: Request) -> Response:
    services, business, caller = await _managed(request)
    person = await _person_of(services, business, request)
    invite, url = await new_invite(
        services, business=business, role=person.role, person=person, created_by=caller.person_id
    )
    return json_response(invite_view(invite, url), 201)


async def create_admin_invite(request: Request) -> Response:
    services: Services = request.app.state.services
    caller = await require_admin(request, services)
    data = await read_json(request, services.settings.max_body_bytes)
    validate("admin-invite", data)
    role = data["role"]
    business = None
    if role != "admin":
        name = data.get("business")
        if not name:
            raise Unprocessable(
                "an owner or staff invite names its business",
                errors=[{"pointer": "/business", "message": "name the business"}],
            )
        business = await businesses.by_username(services.store, name)
        if business is None or business.kind != "business" or business.deleted_at is not None:
            raise Unprocessable(
                f"no business {name!r}",
                errors=[{"pointer": "/business", "message": "no such business"}],
            )
    invite, url = await new_invite(
        services, business=business, role=role, created_by=caller.person_id
    )
    body = invite_view(invite, url)
    body["business"] = business.username if business is not None else None
    return json_response(body, 201)


async def list_admins(request: Request) -> Response:
    services: Services = request.app.state.services
    await require_admin(request, services)
    return json_response(await _people_and_invites(services, None))


_BASE = "/api/v1/businesses/{username}"

routes = [
    Route(f"{_BASE}/invites", create_invite, methods=["POST"]),
    Route(f"{_BASE}/invites/{{id}}", delete_invite, methods=["DELETE"]),
    Route(f"{_BASE}/people", list_people, methods=["GET"]),
    Route(f"{_BASE}/people/{{id}}", remove_person, methods=["DELETE"]),
    Route(f"{_BASE}/people/{{id}}/reset", reset_person, methods=["POST"]),
    Route("/api/v1/admin/invites", create_admin_invite, methods=["POST"]),
    Route("/api/v1/admin/people", list_admins, methods=["GET"]),
]
