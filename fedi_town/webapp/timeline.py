"""Neighbours: the home timeline, what the accounts the business follows post and boost.

    GET /app/{username}/neighbours?max_id=    newest first, PAGE_SIZE a page

Each post says who wrote it (and who boosted it), when, and what the business did with it
(answered already, liked, boosted). Like and Boost (and their undo) post to the app's
``/reactions`` as the Inbox's buttons do, and come back to the same item. "Reply" leads
into the compose page with ``in_reply_to`` set, the same answer flow as the inbox's
"Answer with photos". Attachments are links to the author's server: the app loads no
image from elsewhere (CSP ``img-src 'self'``), and nothing is copied here. Remote HTML is
sanitised when stored and again before it is shown.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.read.note_view import web_link
from fedi_town.store.businesses import Business
from fedi_town.webapp.client import api_for
from fedi_town.webapp.guard import business_of, signed_in
from fedi_town.webapp.inbox import PRIVATE, person, safe_html, when
from fedi_town.webapp.render import page

PAGE_SIZE = 20
#: What an attachment is called in its link.
KINDS = {"image": "Photo", "video": "Video", "audio": "Sound", "unknown": "File"}


def _attachment(raw: dict[str, Any]) -> dict[str, Any] | None:
    link = web_link(raw.get("url"))
    if link is None:
        return None
    return {
        "link": link,
        "kind": KINDS.get(str(raw.get("type")), "File"),
        "description": str(raw.get("description") or ""),
    }


def _item(request: Request, business: Business, raw: dict[str, Any]) -> dict[str, Any]:
    booster = raw.get("boosted_by")
    attachments = [_attachment(a) for a in raw.get("attachments") or [] if isinstance(a, dict)]
    return {
        "id": raw["id"],
        "who": person(raw.get("account")),
        "booster": person(booster) if booster else None,
        "when": when(request, business, raw.get("published_at")),
        "published_at": raw.get("published_at"),
        "edited": raw.get("edited_at") is not None,
        "content": safe_html(raw.get("content")),
        "summary": raw.get("summary"),
        "private": raw.get("visibility") in PRIVATE,
        "link": web_link(raw.get("url")) or web_link(raw.get("uri")),
        "attachments": [a for a in attachments if a is not None],
        "replied": bool(raw.get("replied")),
        "uri": raw["uri"],
        "liked": bool(raw.get("liked")),
        "boosted": bool(raw.get("boosted")),
        "reply": f"/app/{business.username}/compose?" + urlencode({"in_reply_to": raw["uri"]}),
    }


def neighbours_url(business: Business, max_id: str | None = None) -> str:
    query = f"?{urlencode({'max_id': max_id})}" if max_id else ""
    return f"/app/{business.username}/neighbours{query}"


async def neighbours(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    max_id = request.query_params.get("max_id") or None
    answer = await api_for(request, visitor, business).get(
        f"/api/v1/businesses/{business.username}/timeline",
        {"limit": PAGE_SIZE, "max_id": max_id},
    )
    data = answer.data if answer.ok and isinstance(answer.data, dict) else {}
    next_max_id = data.get("next_max_id")
    context = {
        "business": business,
        "items": [_item(request, business, raw) for raw in data.get("items", [])],
        "older": neighbours_url(business, next_max_id) if next_max_id else None,
        "newest": neighbours_url(business) if max_id else None,
        "problem": "" if answer.ok else answer.detail,
        "this_page": neighbours_url(business, max_id),
    }
    status = 200 if answer.ok else answer.status
    return page(request, visitor, "app/neighbours.html", context, status=status)


routes = [
    Route("/app/{username}/neighbours", neighbours, methods=["GET"]),
]
