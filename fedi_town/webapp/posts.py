"""The business's posts: the list, one post with what happened around it, and what can be
done to it (edit, delete, pin), all through the admin API.

    GET  /app/{username}/posts[?max_id=]          newest first, 20 a page, with their reach
    GET  /app/{username}/posts/{id}               replies, likes, boosts, delivery per server
    GET  /app/{username}/posts/{id}/edit          the edit form (text, content warning, time)
    POST /app/{username}/posts/{id}/edit          PATCH: only what changed
    GET  /app/{username}/posts/{id}/delete        "Delete this post?" (no script needed)
    POST /app/{username}/posts/{id}/delete        DELETE
    POST /app/{username}/posts/{id}/pin           action=pin | unpin

Reach is counted in servers, not inboxes: "Reached 12 of 13 servers" counts the hosts the
post's Create went to, and a host is reached once one of its inboxes took it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import NotFound
from fedi_town.protocol.ids import parse_id
from fedi_town.store.businesses import Business
from fedi_town.webapp.client import Api, ApiAnswer, api_for
from fedi_town.webapp.compose import (
    MAX_WARNING,
    VISIBILITY_WORDS,
    Draft,
    clock_text,
    form_errors,
    plain_error,
    problem_text,
    safe_html,
    scheduled_at,
    unresolved_text,
    when_text,
    zone_of,
)
from fedi_town.webapp.guard import Visitor, business_of, services_of, signed_in
from fedi_town.webapp.inbox import attachments_view, poll_view
from fedi_town.webapp.inbox import safe_html as remote_html
from fedi_town.webapp.render import page, read_form, see_other

PAGE_SIZE = 20

#: What each kind of activity of a post is, for the delivery table.
ACTIVITY_WORDS = {
    "Create": "The post",
    "Update": "An edit",
    "Delete": "The deletion",
    "Add": "The pin",
    "Remove": "The unpin",
    "Announce": "The directory's boost",
}


# -- reach -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """How many servers the post's Create went to, and how many have it."""

    servers: int
    reached: int
    trying: int
    failed: int

    @property
    def text(self) -> str:
        if self.servers == 0:
            return "Not sent to other servers: nobody there follows you or was mentioned."
        words = f"Reached {self.reached} of {self.servers} server{'s' if self.servers > 1 else ''}"
        if self.trying:
            words += f", still trying {self.trying}"
        if self.failed:
            words += f", {self.failed} failed"
        return words + "."


def reach_of(deliveries: dict[str, Any]) -> Reach:
    """The reach of a post from its ``GET .../deliveries`` answer."""
    states: dict[str, set[str]] = {}
    for item in deliveries.get("items", []):
        if item.get("activity") == "Create":
            states.setdefault(str(item.get("host")), set()).add(str(item.get("state")))
    reached = sum(1 for s in states.values() if "delivered" in s)
    trying = sum(1 for s in states.values() if "delivered" not in s and "pending" in s)
    failed = sum(1 for s in states.values() if s & {"failed"} and not s & {"delivered", "pending"})
    return Reach(len(states), reached, trying, failed)


def why_words(status: int | None, error: str | None) -> str:
    """Why a delivery did not work yet, as the owner can understand it."""
    gave_up = bool(error and "gave up" in error)
    if status == 410:
        words = "the account there is gone"
    elif status == 429:
        words = "the server asked us to slow down"
    elif status in (401, 403):
        words = f"the server refused it (answer {status})"
    elif status == 404:
        words = "the server does not know this inbox (answer 404)"
    elif status is not None and status >= 500:
        words = f"the server had a problem (answer {status})"
    elif status is not None:
        words = f"the server answered {status}"
    else:
        kind = (error or "").split(";")[0].strip()
        words = {
            "timeout": "the server did not answer in time",
            "connect": "could not reach the server",
            "network": "the connection broke",
            "protocol": "the server's answer could not be read",
            "host unavailable": "the server has been down; waiting before trying it again",
            "refused": "its address is one we do not contact",
        }.get(kind, kind or "no answer yet")
    return words + ("; gave up after 3 days" if gave_up else "")


@dataclass(frozen=True)
class DeliveryLine:
    host: str
    inbox: str
    what: str
    state: str
    result: str


def delivery_lines(deliveries: dict[str, Any], zone: ZoneInfo, now_ms: int) -> list[DeliveryLine]:
    """One line per delivery, in words: delivered at, trying again at, failed because."""
    lines = []
    for item in deliveries.get("items", []):
        state = str(item.get("state"))
        why = why_words(item.get("last_status"), item.get("last_error"))
        if state == "delivered":
            result = f"Delivered at {clock_text(item.get('delivered_at'), zone, now_ms)}"
        elif state == "pending" and not item.get("attempts"):
            result = "Waiting to be sent"
        elif state == "pending":
            at = clock_text(item.get("next_attempt_at"), zone, now_ms)
            result = f"Trying again at {at}: {why}"
        elif state == "failed":
            result = f"Failed: {why}"
        else:
            result = "Not sent: cancelled"
        activity = str(item.get("activity"))
        lines.append(
            DeliveryLine(
                host=str(item.get("host")),
                inbox=str(item.get("inbox")),
                what=ACTIVITY_WORDS.get(activity, activity),
                state=state,
                result=result,
            )
        )
    lines.sort(key=lambda line: (line.what != "The post", line.host))
    return lines


# -- reading posts ------------------------------------------------------------------------------


def shown(post: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """A post of the API as a page shows it: safe HTML, local times, words."""
    when_key = "scheduled_at" if post.get("scheduled") else "published_at"
    return {
        **post,
        "content_html": safe_html(post.get("content_html")),
        "when": when_text(post.get(when_key), zone),
        "edited_when": when_text(post.get("edited_at"), zone),
        "visibility_words": VISIBILITY_WORDS.get(str(post.get("visibility")), ""),
    }


def web_url(value: object) -> str:
    """``value`` when it is an http(s) address (a link we may show), else ``#``."""
    text = str(value or "")
    return text if text.startswith(("https://", "http://")) else "#"


def linked(account: object) -> dict[str, Any]:
    """An API ``Account`` with a link safe to show."""
    found = dict(account) if isinstance(account, dict) else {}
    return {**found, "url": web_url(found.get("url"))}


def _items(answer: ApiAnswer) -> list[dict[str, Any]]:
    data = answer.data if answer.ok and isinstance(answer.data, dict) else {}
    return [i for i in data.get("items", []) if isinstance(i, dict)]


def _base(business: Business) -> str:
    return f"/api/v1/businesses/{business.username}"


async def _one_post(
    request: Request, visitor: Visitor, business: Business
) -> tuple[Api, str, dict[str, Any]]:
    """The API, the post's API path, and the post (404 when it is not this business's)."""
    post_id = parse_id(str(request.path_params.get("id", "")))
    if post_id is None:
        raise NotFound("There is no such post.")
    api = api_for(request, visitor, business)
    path = f"{_base(business)}/posts/{post_id}"
    answer = await api.get(path)
    if not answer.ok or not isinstance(answer.data, dict):
        raise NotFound("There is no such post.")
    return api, path, answer.data


async def list_page(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    api = api_for(request, visitor, business)
    zone = zone_of(request, business)
    max_id = parse_id(request.query_params.get("max_id") or "")
    answer = await api.get(f"{_base(business)}/posts", {"limit": PAGE_SIZE, "max_id": max_id})
    found = (answer.data or {}).get("items", []) if answer.ok else []
    posts = []
    for post in found:
        item = shown(post, zone)
        if not post.get("scheduled"):
            deliveries = await api.get(f"{_base(business)}/posts/{post['id']}/deliveries")
            item["reach"] = reach_of(deliveries.data or {}).text if deliveries.ok else ""
        else:
            item["reach"] = ""
        posts.append(item)
    more = bool(answer.ok and (answer.data or {}).get("next") and found)
    context = {
        "business": business,
        "posts": posts,
        "next_max_id": found[-1]["id"] if more else None,
        "first_page": max_id is None,
    }
    return page(request, visitor, "app/posts.html", context)


async def _post_context(
    request: Request, api: Api, path: str, business: Business, post: dict[str, Any]
) -> dict[str, Any]:
    zone = zone_of(request, business)
    now_ms = services_of(request).now_ms()
    replies = await api.get(f"{path}/replies", {"limit": 40})
    liked = await api.get(f"{path}/interactions", {"kind": "like", "limit": 80})
    boosted = await api.get(f"{path}/interactions", {"kind": "announce", "limit": 80})
    deliveries = await api.get(f"{path}/deliveries")
    delivered = deliveries.data if deliveries.ok and isinstance(deliveries.data, dict) else {}
    reply_items = [
        {
            **r,
            "url": web_url(r.get("url")),
            "account": linked(r.get("account")),
            "content_html": remote_html(r.get("content_html")),
            "spoiler_shown": remote_html(r["spoiler_html"])
            if r.get("spoiler_html")
            else r.get("spoiler_text"),
            "when": when_text(r.get("published_at"), zone),
            "poll": poll_view(request, business, r.get("poll")),
            "attachments": attachments_view(r.get("attachments")),
        }
        for r in ((replies.data or {}).get("items", []) if replies.ok else [])
    ]
    return {
        "business": business,
        "post": shown(post, zone),
        "replies": reply_items,
        "likes": [linked(i.get("account")) for i in _items(liked)],
        "boosts": [linked(i.get("account")) for i in _items(boosted)],
        "reach": reach_of(delivered).text if not post.get("scheduled") else "",
        "deliveries": delivery_lines(delivered, zone, now_ms),
        "mode": "view",
        "errors": {},
        "problem": "",
    }


async def post_page(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    api, path, post = await _one_post(request, visitor, business)
    context = await _post_context(request, api, path, business, post)
    return page(request, visitor, "app/post.html", context)


# -- changing a post ------------------------------------------------------------------------------


def _edit_draft(post: dict[str, Any], zone: ZoneInfo) -> Draft:
    draft = Draft(
        content=str(post.get("content") or ""), spoiler_text=post.get("spoiler_text") or ""
    )
    if post.get("scheduled") and post.get("scheduled_at"):
        local = datetime_in(str(post["scheduled_at"]).replace("Z", "+00:00"), zone)
        draft.schedule_date, draft.schedule_time = local.split("T")
    return draft


def datetime_in(iso: str, zone: ZoneInfo) -> str:
    """``2026-05-14T07:30``: an ISO time as the day and time fields show it in ``zone``."""
    return datetime.fromisoformat(iso).astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def _edit_page(
    request: Request,
    visitor: Visitor,
    business: Business,
    post: dict[str, Any],
    draft: Draft,
    *,
    errors: dict[str, str] | None = None,
    problem: str = "",
    descriptions: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    zone = zone_of(request, business)
    context = {
        "business": business,
        "post": shown(post, zone),
        "draft": draft,
        "descriptions": descriptions or {},
        "mode": "edit",
        "errors": errors or {},
        "problem": problem,
        "max_warning": MAX_WARNING,
        "zone_name": str(zone),
    }
    return page(request, visitor, "app/post.html", context, status=status)


async def edit_page(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    _, _, post = await _one_post(request, visitor, business)
    return _edit_page(
        request, visitor, business, post, _edit_draft(post, zone_of(request, business))
    )


async def save_edit(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    api, path, post = await _one_post(request, visitor, business)
    zone = zone_of(request, business)
    typed = {k: v for k, v in form.items() if isinstance(v, str)}
    draft = Draft(
        content=typed.get("content", "").replace("\r\n", "\n"),
        spoiler_text=typed.get("spoiler_text", "").strip(),
        schedule_date=typed.get("schedule_date", "").strip(),
        schedule_time=typed.get("schedule_time", "").strip(),
    )
    changes: dict[str, Any] = {}
    if draft.content.strip() != str(post.get("content") or "").strip():
        changes["content"] = draft.content
    if draft.spoiler_text != (post.get("spoiler_text") or ""):
        changes["spoiler_text"] = draft.spoiler_text
    if post.get("scheduled"):
        when, schedule_problem = scheduled_at(draft, zone)
        if schedule_problem or not when:
            problem = schedule_problem or "A scheduled post needs a day and a time."
            return _edit_page(
                request,
                visitor,
                business,
                post,
                draft,
                errors={"schedule": problem},
                problem=problem,
                status=422,
            )
        if when_text(when, zone) != when_text(post.get("scheduled_at"), zone):
            changes["scheduled_at"] = when
    back = f"/app/{business.username}/posts/{post['id']}"
    descriptions = {
        str(m["id"]): typed[f"description_{m['id']}"].strip()
        for m in post.get("media", [])
        if f"description_{m['id']}" in typed
    }
    described = await _save_descriptions(api, business, post, descriptions)
    if isinstance(described, dict):
        return _edit_page(
            request,
            visitor,
            business,
            post,
            draft,
            errors=described,
            problem=next(iter(described.values())),
            descriptions=descriptions,
            status=422,
        )
    if not changes:
        return see_other(request, back, "Saved." if described else "Nothing changed.")
    answer = await api.patch(path, changes)
    if not answer.ok:
        errors = form_errors(answer, draft)
        return _edit_page(
            request,
            visitor,
            business,
            post,
            draft,
            errors=errors,
            problem=problem_text(answer, errors),
            descriptions=descriptions,
            status=answer.status,
        )
    done = (
        "Saved. Servers that have the post get the change."
        if not post.get("scheduled")
        else "Saved."
    )
    unresolved = (answer.data or {}).get("unresolved_mentions") or []
    if unresolved:
        done += " Not found, so not mentioned: " + unresolved_text(unresolved) + "."
    return see_other(request, back, done)


async def _save_descriptions(
    api: Api, business: Business, post: dict[str, Any], typed: dict[str, str]
) -> dict[str, str] | int:
    """PATCH each photo whose description changed: how many, or the errors by field."""
    saved = 0
    for media in post.get("media", []):
        media_id = str(media["id"])
        if media_id not in typed or typed[media_id] == (media.get("description") or ""):
            continue
        answer = await api.patch(
            f"{_base(business)}/media/{media_id}", {"description": typed[media_id]}
        )
        if not answer.ok:
            message = answer.field_errors.get("description") or answer.detail
            return {f"description_{media_id}": plain_error("description", message, Draft())}
        saved += 1
    return saved


async def delete_page(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    _, _, post = await _one_post(request, visitor, business)
    context = {
        "business": business,
        "post": shown(post, zone_of(request, business)),
        "mode": "delete",
    }
    return page(request, visitor, "app/post.html", context)


async def delete(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    await read_form(request, visitor)
    api, path, post = await _one_post(request, visitor, business)
    answer = await api.delete(path)
    if not answer.ok:
        return see_other(request, f"/app/{business.username}/posts/{post['id']}", answer.detail)
    if post.get("scheduled"):
        done = "The scheduled post is cancelled; it will not be posted."
    else:
        done = "Deleted. Every server that got it is asked to remove it."
    return see_other(request, f"/app/{business.username}/posts", done)


async def pin(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    api, path, post = await _one_post(request, visitor, business)
    unpin = form.get("action") == "unpin"
    answer = await api.post(f"{path}/{'unpin' if unpin else 'pin'}")
    back = f"/app/{business.username}/posts/{post['id']}"
    if not answer.ok:
        return see_other(request, back, answer.detail or "That did not work; try again.")
    return see_other(
        request, back, "Unpinned." if unpin else "Pinned: it stays at the top of your profile."
    )


_ONE = "/app/{username}/posts/{id}"

routes = [
    Route("/app/{username}/posts", list_page, methods=["GET"]),
    Route(_ONE, post_page, methods=["GET"]),
    Route(f"{_ONE}/edit", edit_page, methods=["GET"]),
    Route(f"{_ONE}/edit", save_edit, methods=["POST"]),
    Route(f"{_ONE}/delete", delete_page, methods=["GET"]),
    Route(f"{_ONE}/delete", delete, methods=["POST"]),
    Route(f"{_ONE}/pin", pin, methods=["POST"]),
]
