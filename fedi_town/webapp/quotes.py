"""Quotes waiting for the owner: who asks to quote which post, with their post to read, and
Approve / Deny (the ``ask`` quote policy, FEP-044f manual approval).

    GET  /app/{username}/quotes?max_id=
    POST /app/{username}/quotes/{id:int}/approve    an Accept with a stamp goes to them
    POST /app/{username}/quotes/{id:int}/deny       a Reject goes to them

Their post comes from the API sanitised when stored and is cleaned again here (with the
custom emoji the site serves) before it is shown. The name rides along in the form only to
word the sentence that follows.
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
from fedi_town.webapp.inbox import person, safe_html, when
from fedi_town.webapp.render import page, read_form, see_other

PAGE_SIZE = 20


def quotes_url(business: Business, max_id: str | None = None) -> str:
    query = f"?{urlencode({'max_id': max_id})}" if max_id else ""
    return f"/app/{business.username}/quotes{query}"


async def quotes(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    api = api_for(request, visitor, business)
    max_id = request.query_params.get("max_id") or None
    answer = await api.get(
        f"/api/v1/businesses/{business.username}/quote_requests",
        {"limit": PAGE_SIZE, "max_id": max_id},
    )
    data = answer.data if answer.ok and isinstance(answer.data, dict) else {}
    items: list[dict[str, Any]] = []
    for raw in data.get("items", []):
        quote = raw.get("quote") or {}
        post = raw.get("post") or {}
        items.append(
            {
                "id": raw["id"],
                "who": person(raw.get("account")),
                "when": when(request, business, raw.get("created_at")),
                "created_at": raw.get("created_at"),
                "content": safe_html(quote.get("content")),
                "summary": quote.get("summary"),
                "link": web_link(quote.get("url")) or web_link(quote.get("uri")),
                "post_path": f"/app/{business.username}/posts/{post['id']}"
                if post.get("id")
                else None,
            }
        )
    older = data.get("next_max_id")
    context = {
        "business": business,
        "items": items,
        "older": quotes_url(business, older) if older else None,
        "newest": quotes_url(business) if max_id else None,
        "problem": "" if answer.ok else answer.detail,
    }
    return page(request, visitor, "app/quotes.html", context, status=answer.status)


async def _decide(request: Request, verb: str) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    name = str(form.get("name", "")).strip()[:100] or "them"
    request_id = request.path_params["id"]
    answer = await api_for(request, visitor, business).post(
        f"/api/v1/businesses/{business.username}/quote_requests/{request_id}/{verb}", None
    )
    back = quotes_url(business)
    if answer.status == 404:
        return see_other(request, back, "That request was already answered.")
    if not answer.ok:
        return see_other(request, back, answer.detail or "That did not work. Try again.")
    state = (answer.data or {}).get("state") if isinstance(answer.data, dict) else None
    if state == "approved":
        return see_other(request, back, f"{name} may quote your post; their quote now shows.")
    if verb == "approve":
        return see_other(
            request, back, f"That post can no longer be quoted, so {name} was told no."
        )
    return see_other(request, back, f"You said no to {name}. They are not told why.")


async def approve(request: Request) -> Response:
    return await _decide(request, "approve")


async def deny(request: Request) -> Response:
    return await _decide(request, "deny")


routes = [
    Route("/app/{username}/quotes", quotes, methods=["GET"]),
    Route("/app/{username}/quotes/{id:int}/approve", approve, methods=["POST"]),
    Route("/app/{username}/quotes/{id:int}/deny", deny, methods=["POST"]),
]
