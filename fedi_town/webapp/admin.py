"""The instance admin's pages: every business, its owner's first link, reports, domain blocks.

    GET  /app/admin                               businesses, create one, the admins
    POST /app/admin/businesses                    username, display_name[, owner_invite]
    POST /app/admin/invites                       role=owner + business, or role=admin
    GET  /app/admin/reports                       every report, newest first (?max_id=)
    GET  /app/admin/domain-blocks                 instance-wide blocks (?max_id=)
    POST /app/admin/domain-blocks                 domain
    POST /app/admin/domain-blocks/{id}/remove

Anyone else gets the 404 of a page that does not exist (``guard.admin_only``). As on the
people page, a new link is shown only in the answer to the form that made it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.webapp.client import Api, ApiAnswer, api_for, plain_words
from fedi_town.webapp.guard import Visitor, admin_only, signed_in
from fedi_town.webapp.people import new_link, plain_errors, refused, sentence, when
from fedi_town.webapp.render import page, read_form, see_other

PAGE_SIZE = 20
CREATE_WORDS = {
    "display_name": "Write the business's name as customers know it (up to 100 characters).",
}
USERNAME_RULE = "Use 1 to 30 letters (a to z), digits and _, with . or - only between them."
DOMAIN_WORDS = {
    "domain": "Write just the domain, like spam.example: no https://, no @, no spaces.",
}


async def _admin(request: Request) -> tuple[Visitor, Api]:
    visitor = await signed_in(request)
    admin_only(visitor)
    return visitor, api_for(request, visitor, None)


def _items(answer: ApiAnswer, key: str = "items") -> list[dict[str, Any]]:
    return list(answer.data.get(key, [])) if answer.ok and isinstance(answer.data, dict) else []


async def _overview(
    request: Request, visitor: Visitor, api: Api, *, status: int = 200, **extra: Any
) -> Response:
    """The admin's home (``extra``: a new link, a problem, the create form's values/errors)."""
    listed = await api.get("/api/v1/businesses")
    admins = await api.get("/api/v1/admin/people")
    context: dict[str, Any] = {
        "businesses": _items(listed),
        "admins": _items(admins, "people"),
        "admin_invites": [
            {**i, "expires": when(i["expires_at"])} for i in _items(admins, "invites")
        ],
        "me": str(visitor.person.id),
        "new_link": None,
        "problem": None,
        "created": None,
        "values": {},
        **extra,
    }
    return page(request, visitor, "app/admin.html", context, status=status)


async def overview(request: Request) -> Response:
    visitor, api = await _admin(request)
    return await _overview(request, visitor, api)


def _username_error(raw: str) -> str:
    """The API's own sentence for a username it checked; the rule for a schema failure."""
    return plain_words(raw) if raw.startswith("username") else USERNAME_RULE


async def create_business(request: Request) -> Response:
    visitor, api = await _admin(request)
    form = await read_form(request, visitor)
    values = {
        "username": str(form.get("username", "")).strip(),
        "display_name": " ".join(str(form.get("display_name", "")).split()),
    }
    answer = await api.post("/api/v1/businesses", values)
    if answer.status in {409, 422}:
        errors = plain_errors(answer, CREATE_WORDS)
        if "username" in errors:
            errors["username"] = _username_error(answer.raw_field_errors["username"])
        if answer.status == 409:
            errors["username"] = "That name is taken: choose another."
        problem = None if errors else sentence(answer.detail)
        context = {"values": {**values, "owner_invite": bool(form.get("owner_invite"))}}
        return await _overview(
            request, visitor, api, status=answer.status, errors=errors, problem=problem, **context
        )
    if not answer.ok:
        return refused(request, visitor, answer, None)
    made = answer.data
    link = None
    if form.get("owner_invite"):
        invited = await api.post(
            "/api/v1/admin/invites", {"role": "owner", "business": made["username"]}
        )
        if invited.ok:
            link = new_link(invited.data, f"Invite link for the owner of {made['display_name']}")
    return await _overview(request, visitor, api, status=201, created=made, new_link=link)


async def invite(request: Request) -> Response:
    visitor, api = await _admin(request)
    form = await read_form(request, visitor)
    role = str(form.get("role", ""))
    body: dict[str, Any] = {"role": role}
    if role != "admin":
        body["business"] = str(form.get("business", ""))
    answer = await api.post("/api/v1/admin/invites", body)
    if answer.status == 422:
        problem = sentence(next(iter(answer.field_errors.values()), answer.detail))
        return await _overview(request, visitor, api, status=422, problem=problem)
    if not answer.ok:
        return refused(request, visitor, answer, None)
    if role == "admin":
        heading = "Invite link for another admin"
    else:
        heading = f"Invite link for an owner of {answer.data.get('business')}"
    return await _overview(
        request, visitor, api, status=201, new_link=new_link(answer.data, heading)
    )


def _web_link(uri: str | None) -> str | None:
    """``uri`` when a browser may open it (http or https), else None."""
    return uri if uri and urlsplit(uri).scheme in {"http", "https"} else None


async def reports(request: Request) -> Response:
    visitor, api = await _admin(request)
    params = {"limit": PAGE_SIZE, "max_id": request.query_params.get("max_id")}
    answer = await api.get("/api/v1/admin/reports", params)
    if not answer.ok:
        return refused(request, visitor, answer, None)
    names = {b["id"]: b for b in _items(await api.get("/api/v1/businesses"))}
    found = [
        {
            "id": r["id"],
            "from_host": urlsplit(r["actor"]).hostname or r["actor"],
            "actor_link": _web_link(r["actor"]),
            "content": r.get("content") or "",
            "when": when(r["created_at"]),
            "businesses": [names[i] for i in r.get("business_ids", []) if i in names],
            "objects": [{"uri": u, "link": _web_link(u)} for u in r.get("object_uris", [])],
        }
        for r in _items(answer)
    ]
    context = {"reports": found, "next_max_id": answer.data.get("next_max_id")}
    return page(request, visitor, "app/admin_reports.html", context)


async def _blocks_page(
    request: Request, visitor: Visitor, api: Api, *, status: int = 200, **extra: Any
) -> Response:
    params = {"limit": PAGE_SIZE, "max_id": request.query_params.get("max_id")}
    answer = await api.get("/api/v1/admin/domain_blocks", params)
    if not answer.ok:
        return refused(request, visitor, answer, None)
    blocks = [{**b, "since": when(b["created_at"])} for b in _items(answer)]
    context = {
        "blocks": blocks,
        "next_max_id": answer.data.get("next_max_id"),
        "domain": "",
        **extra,
    }
    return page(request, visitor, "app/admin_domain_blocks.html", context, status=status)


async def domain_blocks(request: Request) -> Response:
    visitor, api = await _admin(request)
    return await _blocks_page(request, visitor, api)


async def add_domain_block(request: Request) -> Response:
    visitor, api = await _admin(request)
    form = await read_form(request, visitor)
    domain = str(form.get("domain", "")).strip()
    answer = await api.post("/api/v1/admin/domain_blocks", {"domain": domain})
    if answer.status == 422:
        errors = plain_errors(answer, DOMAIN_WORDS) or {"domain": DOMAIN_WORDS["domain"]}
        return await _blocks_page(request, visitor, api, status=422, errors=errors, domain=domain)
    if not answer.ok:
        return refused(request, visitor, answer, None)
    blocked = answer.data["domain"]
    if answer.status == 200:
        done = f"{blocked} was blocked already."
    else:
        done = f"{blocked} is blocked: follows from it ended, and what it sends is refused."
    return see_other(request, "/app/admin/domain-blocks", done)


async def remove_domain_block(request: Request) -> Response:
    visitor, api = await _admin(request)
    form = await read_form(request, visitor)
    answer = await api.delete(f"/api/v1/admin/domain_blocks/{request.path_params['id']}")
    if answer.status == 404:
        return see_other(request, "/app/admin/domain-blocks", "That block was gone already.")
    if not answer.ok:
        return refused(request, visitor, answer, None)
    domain = str(form.get("domain", "")) or "The domain"
    return see_other(
        request, "/app/admin/domain-blocks", f"{domain} is unblocked: it may follow and send again."
    )


routes = [
    Route("/app/admin", overview, methods=["GET"]),
    Route("/app/admin/businesses", create_business, methods=["POST"]),
    Route("/app/admin/invites", invite, methods=["POST"]),
    Route("/app/admin/reports", reports, methods=["GET"]),
    Route("/app/admin/domain-blocks", domain_blocks, methods=["GET"]),
    Route("/app/admin/domain-blocks", add_domain_block, methods=["POST"]),
    Route("/app/admin/domain-blocks/{id:int}/remove", remove_domain_block, methods=["POST"]),
]
