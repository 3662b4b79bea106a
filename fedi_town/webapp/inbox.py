"""The inbox: what people sent the business, replies and mentions first, each one answerable
right under where it is read.

    GET  /app/{username}/inbox?show=replies|follows|likes&max_id=   one tab, newest first
    POST /app/{username}/inbox/answer    in_reply_to, content, visibility (public|direct)

Each reply and mention has Like and Boost buttons (Unlike / Undo boost once given; no Boost
for a note sent privately), and the replies tab a "Like or boost a post by its address"
form; both post to ``webapp.reactions``.

The tabs are links (no script) over the notifications API's ``types`` filter. An answer is
a post through the posts API with ``in_reply_to`` set to the note's id: the API fetches the
note, mentions its author and delivers to them. A note its author sent privately (to their
followers, or to the people it mentions) is answered privately unless the owner chooses
otherwise, so a private question never gets a public answer by default.

Remote HTML comes from the API already sanitised (``inbound`` cleans it when stored) and is
cleaned once more here before it is marked safe, as the public pages do; the only images
kept are the custom emoji the API wrote, served from this site (``/proxy/emoji/``). A poll
shows its options with votes, shares and when it closes (voting from here is not offered);
attachments are links to where they are, with their descriptions, never copied or shown
inline (the page loads images from this site only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.business import hours
from fedi_town.read import note_view
from fedi_town.read.note_view import web_link
from fedi_town.store.businesses import Business
from fedi_town.text.emoji import EMOJI_PATH, emoji_img, sanitize_with_emoji
from fedi_town.webapp.client import Api, api_for
from fedi_town.webapp.guard import Visitor, business_of, services_of, signed_in
from fedi_town.webapp.render import page, read_form, see_other

PAGE_SIZE = 20


@dataclass(frozen=True)
class Tab:
    label: str
    types: tuple[str, ...]
    empty: str


TABS = {
    "replies": Tab(
        "Replies, mentions and quotes",
        ("reply", "mention", "quote", "quote_request"),
        "No replies, mentions or quotes yet. When someone answers a post, writes to you or "
        "quotes you, it shows here.",
    ),
    "follows": Tab("Follows", ("follow", "follow_request"), "No new followers yet."),
    "likes": Tab("Likes and boosts", ("like", "boost"), "No likes or boosts yet."),
}
#: What each notification says after the person's name.
DID = {
    "reply": "replied to you",
    "mention": "mentioned you",
    "follow": "started following you",
    "follow_request": "asks to follow you",
    "like": "liked your post",
    "boost": "boosted your post",
    "report": "reported something",
    "quote": "quoted your post",
    "quote_request": "asks to quote your post",
}
#: Notes their author did not make public: answered only to them unless the owner chooses.
PRIVATE = frozenset({"private", "direct", "limited"})
ANSWER_VISIBILITIES = ("public", "direct")


def when(request: Request, business: Business, iso: str | None) -> str:
    """A time in the business's zone, as a person says it: "today 14:05", "Mon 3 Mar"."""
    if not iso:
        return ""
    zone = hours.business_zone(business, services_of(request).settings.timezone)
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone)
    today = hours.local_date(services_of(request).now_ms(), zone)
    if moment.date() == today:
        return f"today {moment:%H:%M}"
    if moment.date() == today - timedelta(days=1):
        return f"yesterday {moment:%H:%M}"
    if moment.year == today.year:
        return f"{moment:%a} {moment.day} {moment:%b}"
    return f"{moment.day} {moment:%b %Y}"


def person(account: dict[str, Any] | None) -> dict[str, Any]:
    """Who someone is on a page: name, handle, profile link and the letter for the avatar.

    Their avatar picture lives on their server; the app's pages load images from this site
    only (CSP ``img-src 'self'``), so the first letter of the name stands in for it.
    """
    if not account:
        return {
            "name": "Someone",
            "name_html": Markup("Someone"),
            "handle": "",
            "url": None,
            "initial": "?",
            "id": None,
        }
    name = str(account.get("display_name") or account.get("handle") or account.get("id"))
    shown = account.get("display_name_html")
    return {
        "name": name,
        # cleaned again here: only the emoji pictures the API wrote (served here) survive
        "name_html": Markup(sanitize_with_emoji(shown))  # noqa: S704 (sanitised just now)
        if isinstance(shown, str)
        else Markup.escape(name),
        "handle": account.get("handle") or "",
        "url": web_link(account.get("url")) or web_link(account.get("id")),
        "initial": name.lstrip("@")[:1].upper() or "?",
        "id": account.get("id"),
    }


def safe_html(content: str | None) -> Markup:
    """Remote HTML to show: sanitised when stored, and again here (as read/pages.py does),
    keeping only the custom emoji images the API wrote (served from this site)."""
    return Markup(sanitize_with_emoji(content or ""))  # noqa: S704 (sanitised just now)


def poll_view(request: Request, business: Business, poll: Any) -> dict[str, Any] | None:
    """A received poll for the page: options with votes and bars, and when it closes."""
    return note_view.poll_display(poll, lambda iso: when(request, business, iso))


#: Received attachments as links to where they are, described (read/note_view.py).
attachments_view = note_view.attachments_display


def reaction_view(reaction: Any) -> Markup | None:
    """An emoji reaction as shown: the cached picture (served from this site) with its
    ``:code:`` as text alternative, else the emoji or ``:code:`` as text."""
    if not isinstance(reaction, dict) or not isinstance(reaction.get("content"), str):
        return None
    content, src = reaction["content"], reaction.get("url")
    if isinstance(src, str) and EMOJI_PATH.match(src) and content.startswith(":"):
        return Markup(emoji_img(content.strip(":"), src))  # noqa: S704 (our own markup)
    return Markup.escape(content)


def _item(request: Request, business: Business, raw: dict[str, Any]) -> dict[str, Any]:
    note = raw.get("note")
    post = raw.get("post")
    who = person(raw.get("account"))
    item: dict[str, Any] = {
        "id": raw["id"],
        "type": raw["type"],
        "who": who,
        "did": DID.get(raw["type"], raw["type"]),
        "when": when(request, business, raw.get("created_at")),
        "created_at": raw.get("created_at"),
        "post_path": f"/app/{business.username}/posts/{post['id']}" if post else None,
        "quotes_path": f"/app/{business.username}/quotes",
        "reaction": reaction_view(raw.get("reaction")),
        "note": None,
    }
    if note:
        visibility = note.get("visibility") or "public"
        item["note"] = {
            "uri": note["uri"],
            "link": web_link(note.get("url")) or web_link(note["uri"]),
            "compose": f"/app/{business.username}/compose?"
            + urlencode({"in_reply_to": note["uri"]}),
            "content": safe_html(note.get("content")),
            "summary": safe_html(note["summary_html"])
            if note.get("summary_html")
            else note.get("summary"),
            "private": visibility in PRIVATE,
            "answer_visibility": "direct" if visibility in PRIVATE else "public",
            "poll": poll_view(request, business, note.get("poll")),
            "attachments": attachments_view(note.get("attachments")),
        }
    return item


async def _mark_given(api: Api, business: Business, items: list[dict[str, Any]]) -> None:
    """Whether the business liked and boosted each note shown (one API call), for the
    Like / Boost buttons and their undo."""
    uris = [i["note"]["uri"] for i in items if i["note"]]
    if not uris:
        return
    answer = await api.get(f"/api/v1/businesses/{business.username}/given", {"object": uris})
    marks = answer.data if answer.ok and isinstance(answer.data, dict) else {}
    for item in items:
        note = item["note"]
        if note:
            found = marks.get(note["uri"]) or {}
            note["liked"] = bool(found.get("liked"))
            note["boosted"] = bool(found.get("boosted"))


def inbox_url(business: Business, show: str, max_id: str | None = None) -> str:
    query = {"show": show, **({"max_id": max_id} if max_id else {})}
    return f"/app/{business.username}/inbox?{urlencode(query)}"


def _show(value: Any) -> str:
    return value if isinstance(value, str) and value in TABS else "replies"


async def _render(
    request: Request,
    visitor: Visitor,
    business: Business,
    show: str,
    max_id: str | None,
    *,
    answering: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    api = api_for(request, visitor, business)
    answer = await api.get(
        f"/api/v1/businesses/{business.username}/notifications",
        {"limit": PAGE_SIZE, "max_id": max_id or None, "types": ",".join(TABS[show].types)},
    )
    data = answer.data if answer.ok and isinstance(answer.data, dict) else {}
    items = [_item(request, business, raw) for raw in data.get("items", [])]
    await _mark_given(api, business, items)
    next_max_id = data.get("next_max_id")
    problem = "" if answer.ok else answer.detail
    if answering and not any(i["note"] and i["note"]["uri"] == answering["uri"] for i in items):
        problem = answering["error"]  # the note is not on this page: say it at the top
    context = {
        "business": business,
        "tabs": [(key, tab.label, inbox_url(business, key)) for key, tab in TABS.items()],
        "show": show,
        "tab": TABS[show],
        "items": items,
        "max_id": max_id or "",
        "older": inbox_url(business, show, next_max_id) if next_max_id else None,
        "newest": inbox_url(business, show) if max_id else None,
        "problem": problem,
        "answering": answering or {},
        "visibilities": ANSWER_VISIBILITIES,
        "this_page": inbox_url(business, show, max_id),
    }
    if not answer.ok and status == 200:
        status = answer.status
    return page(request, visitor, "app/inbox.html", context, status=status)


async def inbox(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    show = _show(request.query_params.get("show"))
    return await _render(request, visitor, business, show, request.query_params.get("max_id"))


async def answer(request: Request) -> Response:
    """Post the owner's answer to a note as a reply; back to the same inbox page (PRG), or
    that page again with the API's sentence next to the answer on a 422."""
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    in_reply_to = str(form.get("in_reply_to", "")).strip()
    content = str(form.get("content", ""))
    visibility = str(form.get("visibility", "public"))
    if visibility not in ANSWER_VISIBILITIES:
        visibility = "public"
    name = str(form.get("name", "")).strip()[:100] or "them"
    show = _show(form.get("show"))
    max_id = str(form.get("max_id", "")).strip() or None
    result = await api_for(request, visitor, business).post(
        f"/api/v1/businesses/{business.username}/posts",
        {"content": content, "in_reply_to": in_reply_to, "visibility": visibility},
    )
    if result.ok:
        done = (
            f"Your answer to {name} is posted and on its way to them."
            if visibility == "public"
            else f"Your answer is on its way to {name}, and only to them."
        )
        return see_other(request, inbox_url(business, show, max_id), done)
    errors = result.field_errors
    message = (
        errors.get("content")
        or errors.get("in_reply_to")
        or next(iter(errors.values()), "")
        or result.detail
    )
    answering = {
        "uri": in_reply_to,
        "content": content,
        "visibility": visibility,
        "error": message or "The answer could not be posted. Try again.",
    }
    status = result.status if result.status >= 400 else 422
    return await _render(
        request, visitor, business, show, max_id, answering=answering, status=status
    )


routes = [
    Route("/app/{username}/inbox", inbox, methods=["GET"]),
    Route("/app/{username}/inbox/answer", answer, methods=["POST"]),
]
