"""Blocks and reports: whom the business refuses to hear from, and what other servers'
moderators reported about it.

    GET  /app/{username}/moderation?max_id=&reports_max_id=
    POST /app/{username}/moderation/blocks              who: @user@host, a profile address
                                                        or a domain
    POST /app/{username}/moderation/blocks/{id}/remove  lift a block

One field takes a person or a whole server: text that looks like a domain (no ``@``, no
``/``, a dot) blocks the domain, anything else is sent as an actor, and the blocks API's
422 sentence shows next to the field. Reports are read-only here; the instance admin acts
on them.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.read.note_view import web_link
from fedi_town.store.businesses import Business
from fedi_town.webapp.client import Api, ApiAnswer, api_for
from fedi_town.webapp.guard import Visitor, business_of, signed_in
from fedi_town.webapp.inbox import when
from fedi_town.webapp.render import page, read_form, see_other

PAGE_SIZE = 40
_DOMAIN_LIKE = re.compile(r"\A[^\s/@]+\.[^\s/@]+\Z")
EMPTY = "Write who to block: a handle like @name@server, or a domain like spam.example."


def moderation_url(business: Business, **query: str | None) -> str:
    kept = {k: v for k, v in query.items() if v}
    return f"/app/{business.username}/moderation" + (f"?{urlencode(kept)}" if kept else "")


def block_body(who: str) -> dict[str, str]:
    """What the blocks API takes for the text typed: a domain, or an actor (handle or URI)."""
    who = who.strip()
    if _DOMAIN_LIKE.match(who) and not who.lower().startswith(("http:", "https:")):
        return {"domain": who}
    return {"actor": who}


def _host(uri: str | None) -> str:
    return urlsplit(uri or "").netloc or (uri or "")


def _blocks(request: Request, business: Business, answer: ApiAnswer) -> list[dict[str, Any]]:
    data = answer.data if answer.ok and isinstance(answer.data, dict) else {}
    found = []
    for raw in data.get("items", []):
        actor = raw.get("actor")
        found.append(
            {
                "id": raw["id"],
                "label": raw.get("domain") or actor or "",
                "kind": "server" if raw.get("domain") else "person",
                "link": web_link(actor),
                "when": when(request, business, raw.get("created_at")),
                "created_at": raw.get("created_at"),
            }
        )
    return found


def _reports(
    request: Request, business: Business, answer: ApiAnswer, actor_id: str
) -> list[dict[str, Any]]:
    data = answer.data if answer.ok and isinstance(answer.data, dict) else {}
    found = []
    for raw in data.get("items", []):
        about = []
        for uri in raw.get("object_uris", []):
            if uri == actor_id:
                about.append({"text": "your profile", "link": None})
            else:
                about.append({"text": uri, "link": web_link(uri)})
        found.append(
            {
                "from": _host(raw.get("actor")),
                "content": raw.get("content") or "",
                "about": about,
                "when": when(request, business, raw.get("created_at")),
                "created_at": raw.get("created_at"),
            }
        )
    return found


def _next(answer: ApiAnswer) -> str | None:
    return answer.data.get("next_max_id") if answer.ok and isinstance(answer.data, dict) else None


async def _render(
    request: Request,
    visitor: Visitor,
    business: Business,
    api: Api,
    *,
    who: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    base = f"/api/v1/businesses/{business.username}"
    max_id = request.query_params.get("max_id") or None
    reports_max_id = request.query_params.get("reports_max_id") or None
    view = await api.get(base)
    blocks = await api.get(f"{base}/blocks", {"limit": PAGE_SIZE, "max_id": max_id})
    reports = await api.get(f"{base}/reports", {"limit": PAGE_SIZE, "max_id": reports_max_id})
    actor_id = str((view.data or {}).get("actor_id", "")) if view.ok else ""
    more_blocks, more_reports = _next(blocks), _next(reports)
    failed = [a for a in (view, blocks, reports) if not a.ok]
    context = {
        "business": business,
        "blocks": _blocks(request, business, blocks),
        "reports": _reports(request, business, reports, actor_id),
        "more_blocks": moderation_url(business, max_id=more_blocks) + "#blocks"
        if more_blocks
        else None,
        "more_reports": moderation_url(business, reports_max_id=more_reports) + "#reports"
        if more_reports
        else None,
        "paged": bool(max_id or reports_max_id),
        "who": who,
        "errors": errors or {},
        "problem": failed[0].detail if failed else "",
    }
    if failed and status == 200:
        status = failed[0].status
    return page(request, visitor, "app/moderation.html", context, status=status)


async def moderation(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    return await _render(request, visitor, business, api_for(request, visitor, business))


async def add_block(request: Request) -> Response:
    """Block what was typed; on the API's 422, the page again with its sentence by the field."""
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    who = str(form.get("who", "")).strip()
    api = api_for(request, visitor, business)
    if not who:  # nothing to send: the API would only say the text is too short
        return await _render(request, visitor, business, api, errors={"who": EMPTY}, status=422)
    body = block_body(who)
    answer = await api.post(f"/api/v1/businesses/{business.username}/blocks", body)
    if answer.ok:
        what = "Everyone on " + body["domain"] if "domain" in body else who
        return see_other(
            request,
            moderation_url(business),
            f"{what} is blocked: they no longer follow you, and nothing they send reaches you.",
        )
    errors = answer.field_errors
    message = (
        errors.get("actor") or errors.get("domain") or next(iter(errors.values()), "")
    ) or answer.detail
    return await _render(
        request,
        visitor,
        business,
        api,
        who=who,
        errors={"who": message or "That could not be blocked."},
        status=answer.status if answer.status >= 400 else 422,
    )


async def remove_block(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    label = str(form.get("label", "")).strip()[:300] or "That block"
    block_id = request.path_params["id"]
    answer = await api_for(request, visitor, business).delete(
        f"/api/v1/businesses/{business.username}/blocks/{block_id}"
    )
    if answer.ok or answer.status == 404:
        return see_other(request, moderation_url(business), f"{label} is no longer blocked.")
    return see_other(request, moderation_url(business), answer.detail)


routes = [
    Route("/app/{username}/moderation", moderation, methods=["GET"]),
    Route("/app/{username}/moderation/blocks", add_block, methods=["POST"]),
    Route("/app/{username}/moderation/blocks/{id:int}/remove", remove_block, methods=["POST"]),
]
