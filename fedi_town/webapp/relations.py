"""Relationships, one person at a time: the neighbours list, one neighbour's page, and the
"Dealt with" button of the questions waiting (shown on the Today page).

    GET  /app/{username}/relationships?offset=&sort=   everyone the business has met
    GET  /app/{username}/relationships/{id}            what they did, what it gave back
    POST /app/{username}/questions/{note_id}           act: done | undo, back: where to return

Everything comes from the API (``api/relations.py``, called in process); blocked accounts
are already left out there. Remote HTML is sanitised again before it is shown.
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

PAGE_SIZE = 40
#: What each tally is called on a neighbour's page.
RECEIVED = {
    "replies": "Replies and mentions",
    "likes": "Likes of your posts",
    "boosts": "Boosts of your posts",
}
GIVEN = {
    "replies": "Your answers",
    "likes": "Your likes of their posts",
    "boosts": "Your boosts of their posts",
}


def compose_link(business: Business, uri: str) -> str:
    return f"/app/{business.username}/compose?" + urlencode({"in_reply_to": uri})


def question(request: Request, business: Business, raw: dict[str, Any]) -> dict[str, Any]:
    """A question waiting, for a page: who, when, what, and where to answer."""
    return {
        "id": raw["id"],
        "who": person(raw.get("account")),
        "neighbour": f"/app/{business.username}/relationships/{raw.get('neighbour_id')}",
        "when": when(request, business, raw.get("received_at")),
        "content": safe_html(raw.get("content")),
        "link": web_link(raw.get("url")),
        "answer": compose_link(business, raw["uri"]),
    }


async def relationships(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    offset = request.query_params.get("offset") or "0"
    sort = "name" if request.query_params.get("sort") == "name" else "recent"
    answer = await api_for(request, visitor, business).get(
        f"/api/v1/businesses/{business.username}/neighbours",
        {"limit": PAGE_SIZE, "offset": offset, "sort": sort},
    )
    data = answer.data if answer.ok and isinstance(answer.data, dict) else {}
    base = f"/app/{business.username}/relationships"
    following = data.get("next_offset")
    items = [
        {
            "who": person(raw.get("account")),
            "page": f"{base}/{raw['id']}",
            "when": when(request, business, raw.get("last_activity_at")),
            "at": raw.get("last_activity_at"),
        }
        for raw in data.get("items", [])
    ]
    context = {
        "business": business,
        "items": items,
        "total": data.get("total", 0),
        "sort": sort,
        "more": f"{base}?{urlencode({'offset': following, 'sort': sort})}" if following else None,
        "problem": "" if answer.ok else answer.detail,
    }
    return page(
        request,
        visitor,
        "app/relationships.html",
        context,
        status=200 if answer.ok else answer.status,
    )


def _tallies(
    request: Request, business: Business, raw: dict[str, Any], names: dict[str, str]
) -> list[dict[str, Any]]:
    shown = []
    for key, label in names.items():
        tally = raw.get(key) or {}
        shown.append(
            {
                "label": label,
                "count": int(tally.get("count", 0)),
                "recent": [
                    {
                        "when": when(request, business, item.get("at")),
                        "content": safe_html(item.get("content")) if item.get("content") else None,
                        "link": web_link(item.get("uri")),
                    }
                    for item in tally.get("recent", [])
                ],
            }
        )
    return shown


async def relationship(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    neighbour_id = request.path_params["id"]
    answer = await api_for(request, visitor, business).get(
        f"/api/v1/businesses/{business.username}/neighbours/{neighbour_id}"
    )
    data = answer.data if answer.ok and isinstance(answer.data, dict) else {}
    context = {
        "business": business,
        "who": person(data.get("account")),
        "view": data,
        "since": when(request, business, data.get("follows_business_since")),
        "received": _tallies(request, business, data.get("received") or {}, RECEIVED),
        "given": _tallies(request, business, data.get("given") or {}, GIVEN),
        "problem": "" if answer.ok else answer.detail,
    }
    return page(
        request,
        visitor,
        "app/relationship.html",
        context,
        status=200 if answer.ok else answer.status,
    )


def _back(business: Business, raw: object) -> str:
    """Where to return: a page of this business's app, else its Today page."""
    home = f"/app/{business.username}"
    if isinstance(raw, str) and (raw == home or raw.startswith((home + "/", home + "#"))):
        if "//" not in raw and "\\" not in raw:
            return raw
    return home


async def dealt_with(request: Request) -> Response:
    """Mark a question dealt with (or undo); back to the page the button was on."""
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    back = _back(business, form.get("back"))
    act = str(form.get("act", "done"))
    path = (
        f"/api/v1/businesses/{business.username}/questions/"
        f"{request.path_params['note_id']}/dealt-with"
    )
    api = api_for(request, visitor, business)
    answer = await (api.request("DELETE", path) if act == "undo" else api.post(path, {}))
    if answer.ok:
        said = "It waits again." if act == "undo" else "Marked as dealt with."
        return see_other(request, back, said)
    return see_other(request, back, answer.detail or "That did not work. Try again.")


routes = [
    Route("/app/{username}/relationships", relationships, methods=["GET"]),
    Route("/app/{username}/relationships/{id}", relationship, methods=["GET"]),
    Route("/app/{username}/questions/{note_id}", dealt_with, methods=["POST"]),
]
