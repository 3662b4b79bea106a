"""Following: whom the business follows, asking to follow someone by handle, unfollowing,
and "Follow back" from the Followers page.

    GET  /app/{username}/following?max_id=
    POST /app/{username}/following                    account: @user@host or a profile
                                                      address; back=followers returns there
    POST /app/{username}/following/{id:int}/unfollow  an Undo of the Follow goes to them

A follow waits ("Asked: waiting for them") until the other side accepts; some accounts
approve each follower by hand, so it may wait a while. The follows API's reason for a
refusal (not found, blocked, the server did not answer) shows next to the field, with what
was typed kept.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.store.businesses import Business
from fedi_town.webapp.client import Api, ApiAnswer, api_for
from fedi_town.webapp.followers import followers_url
from fedi_town.webapp.guard import Visitor, business_of, signed_in
from fedi_town.webapp.inbox import person, when
from fedi_town.webapp.render import page, read_form, see_other

PAGE_SIZE = 40
EMPTY = "Write who to follow: a handle like @name@server, or the address of their profile."


def following_url(business: Business, **query: str | None) -> str:
    kept = {k: v for k, v in query.items() if v}
    return f"/app/{business.username}/following" + (f"?{urlencode(kept)}" if kept else "")


def _follows(request: Request, business: Business, answer: ApiAnswer) -> list[dict[str, Any]]:
    data = answer.data if answer.ok and isinstance(answer.data, dict) else {}
    return [
        {
            "id": raw["id"],
            "who": person(raw.get("account")),
            "pending": raw.get("state") == "pending",
            "when": when(request, business, raw.get("created_at")),
            "created_at": raw.get("created_at"),
        }
        for raw in data.get("items", [])
    ]


async def _render(
    request: Request,
    visitor: Visitor,
    business: Business,
    api: Api,
    *,
    account: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    max_id = request.query_params.get("max_id") or None
    listed = await api.get(
        f"/api/v1/businesses/{business.username}/following",
        {"limit": PAGE_SIZE, "max_id": max_id},
    )
    more = listed.data.get("next_max_id") if listed.ok and isinstance(listed.data, dict) else None
    context = {
        "business": business,
        "follows": _follows(request, business, listed),
        "more": following_url(business, max_id=more) if more else None,
        "paged": bool(max_id),
        "account": account,
        "errors": errors or {},
        "problem": "" if listed.ok else listed.detail,
    }
    if not listed.ok and status == 200:
        status = listed.status
    return page(request, visitor, "app/following.html", context, status=status)


async def following(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    return await _render(request, visitor, business, api_for(request, visitor, business))


async def follow(request: Request) -> Response:
    """Follow what was typed (or the follower to follow back); on a refusal, the page again
    with the API's sentence by the field (from the Followers page: back there with it)."""
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    account = str(form.get("account", "")).strip()
    from_followers = form.get("back") == "followers"
    name = str(form.get("name", "")).strip()[:100] or account
    api = api_for(request, visitor, business)
    if not account:
        return await _render(request, visitor, business, api, errors={"account": EMPTY}, status=422)
    answer = await api.post(
        f"/api/v1/businesses/{business.username}/following", {"account": account}
    )
    back = followers_url(business) if from_followers else following_url(business)
    if answer.ok:
        return see_other(
            request,
            back,
            f"You asked to follow {name}. It shows as following once they accept.",
        )
    message = answer.field_errors.get("account") or answer.detail
    if from_followers:
        return see_other(request, back, message or "That did not work. Try again.")
    return await _render(
        request,
        visitor,
        business,
        api,
        account=account,
        errors={"account": message or "That account cannot be followed."},
        status=answer.status if answer.status >= 400 else 422,
    )


async def unfollow(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    name = str(form.get("name", "")).strip()[:100] or "them"
    answer = await api_for(request, visitor, business).delete(
        f"/api/v1/businesses/{business.username}/following/{request.path_params['id']}"
    )
    if answer.ok or answer.status == 404:
        return see_other(request, following_url(business), f"You no longer follow {name}.")
    return see_other(request, following_url(business), answer.detail)


routes = [
    Route("/app/{username}/following", following, methods=["GET"]),
    Route("/app/{username}/following", follow, methods=["POST"]),
    Route("/app/{username}/following/{id:int}/unfollow", unfollow, methods=["POST"]),
]
