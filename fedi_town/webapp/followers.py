"""Followers: who waits to follow (approve or reject), who follows (remove or block), and
whether new followers need approval at all.

    GET  /app/{username}/followers?max_id=&requests_max_id=
    POST /app/{username}/follow_requests/{id:int}/approve     an Accept goes to them
    POST /app/{username}/follow_requests/{id:int}/reject      a Reject goes to them
    POST /app/{username}/followers/{id:int}/remove            a Reject of their follow goes to them
    POST /app/{username}/followers/block                  actor: blocked (and so removed)
    POST /app/{username}/followers/approval               approve=yes|no

A follower the business does not follow yet has a "Follow back" button: it posts to the
Following page's form (``webapp.following``) and comes back here.

Requests exist only while the business approves followers itself
(``manually_approves_followers``); the page says so and switches it. Each button names the
person it acts on; the name rides along in the form only to word the sentence that follows.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.store.businesses import Business
from fedi_town.webapp.client import ApiAnswer, api_for
from fedi_town.webapp.guard import business_of, signed_in
from fedi_town.webapp.inbox import person, when
from fedi_town.webapp.render import page, read_form, see_other

PAGE_SIZE = 40


def followers_url(business: Business, **query: str | None) -> str:
    kept = {k: v for k, v in query.items() if v}
    return f"/app/{business.username}/followers" + (f"?{urlencode(kept)}" if kept else "")


def _people(request: Request, business: Business, answer: ApiAnswer) -> list[dict[str, Any]]:
    data = answer.data if answer.ok and isinstance(answer.data, dict) else {}
    return [
        {
            "id": raw["id"],
            "who": person(raw.get("account")),
            "when": when(request, business, raw.get("created_at")),
            "created_at": raw.get("created_at"),
            "you_follow": raw.get("you_follow"),
        }
        for raw in data.get("items", [])
    ]


def _next(answer: ApiAnswer) -> str | None:
    return answer.data.get("next_max_id") if answer.ok and isinstance(answer.data, dict) else None


async def followers(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    api = api_for(request, visitor, business)
    base = f"/api/v1/businesses/{business.username}"
    max_id = request.query_params.get("max_id") or None
    requests_max_id = request.query_params.get("requests_max_id") or None
    view = await api.get(base)
    waiting = await api.get(
        f"{base}/follow_requests", {"limit": PAGE_SIZE, "max_id": requests_max_id}
    )
    following = await api.get(f"{base}/followers", {"limit": PAGE_SIZE, "max_id": max_id})
    more_requests = _next(waiting)
    more_followers = _next(following)
    problem = next((a.detail for a in (view, waiting, following) if not a.ok), "")
    context = {
        "business": business,
        "manual": bool((view.data or {}).get("manually_approves_followers")) if view.ok else False,
        "followers_count": (view.data or {}).get("followers_count", 0) if view.ok else 0,
        "requests": _people(request, business, waiting),
        "followers": _people(request, business, following),
        "more_requests": followers_url(business, requests_max_id=more_requests) + "#requests"
        if more_requests
        else None,
        "more_followers": followers_url(business, max_id=more_followers) + "#followers"
        if more_followers
        else None,
        "paged": bool(max_id or requests_max_id),
        "problem": problem,
    }
    status = next((a.status for a in (view, waiting, following) if not a.ok), 200)
    return page(request, visitor, "app/followers.html", context, status=status)


def _name(form: Any) -> str:
    return str(form.get("name", "")).strip()[:100] or "them"


async def _act(
    request: Request, method: str, path: str, done: str, gone: str, body: Any = None
) -> Response:
    """Read the form, call the API, go back to the followers page with a sentence."""
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    name = _name(form)
    api = api_for(request, visitor, business)
    url = f"/api/v1/businesses/{business.username}{path}"
    if method == "POST":
        answer = await api.post(url, body(form) if callable(body) else body)
    else:
        answer = await api.delete(url)
    back = followers_url(business)
    if answer.ok:
        return see_other(request, back, done.format(name=name))
    if answer.status == 404:
        return see_other(request, back, gone.format(name=name))
    return see_other(request, back, answer.detail or "That did not work. Try again.")


async def approve(request: Request) -> Response:
    follow_id = request.path_params["id"]
    return await _act(
        request,
        "POST",
        f"/follow_requests/{follow_id}/accept",
        "{name} now follows you and will see your posts.",
        "That request was already answered.",
    )


async def reject(request: Request) -> Response:
    follow_id = request.path_params["id"]
    return await _act(
        request,
        "POST",
        f"/follow_requests/{follow_id}/reject",
        "You said no to {name}. They are not told why.",
        "That request was already answered.",
    )


async def remove(request: Request) -> Response:
    follow_id = request.path_params["id"]
    return await _act(
        request,
        "DELETE",
        f"/followers/{follow_id}",
        "{name} no longer follows you. They can ask again; block them to stop that.",
        "{name} no longer follows you.",
    )


async def block(request: Request) -> Response:
    return await _act(
        request,
        "POST",
        "/blocks",
        "{name} is blocked and no longer follows you. Blocks & reports lists your blocks.",
        "{name} could not be blocked.",
        body=lambda form: {"actor": str(form.get("actor", ""))},
    )


async def approval(request: Request) -> Response:
    """Turn approval of new followers on or off."""
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    manual = form.get("approve") == "yes"
    answer = await api_for(request, visitor, business).patch(
        f"/api/v1/businesses/{business.username}", {"manually_approves_followers": manual}
    )
    if not answer.ok:
        return see_other(request, followers_url(business), answer.detail)
    done = (
        "From now on you approve each new follower yourself."
        if manual
        else "From now on anyone can follow you without asking."
    )
    return see_other(request, followers_url(business), done)


routes = [
    Route("/app/{username}/followers", followers, methods=["GET"]),
    Route("/app/{username}/follow_requests/{id:int}/approve", approve, methods=["POST"]),
    Route("/app/{username}/follow_requests/{id:int}/reject", reject, methods=["POST"]),
    Route("/app/{username}/followers/block", block, methods=["POST"]),
    Route("/app/{username}/followers/approval", approval, methods=["POST"]),
    Route("/app/{username}/followers/{id:int}/remove", remove, methods=["POST"]),
]
