"""Writing a post from a phone: text, photos from the camera with their descriptions, who may
see it, a content warning, a time to post it later, and a preview of how Mastodon will show it.

    GET  /app/{username}/compose   the form; ?in_reply_to=<uri> makes it a reply, and
                                   ?content= and ?visibility= fill those in
    POST /app/{username}/compose                       action=preview | post | post_anyway

Everything goes through the admin API: each new photo is uploaded (``POST .../media``) as soon
as the form arrives, and from then on travels as its media id in a hidden field, so a form
shown again (to preview, to ask for a description, to fix an error) never asks for the photo
again. A photo without a description is not refused: the first "Post" shows the form again
asking for one, with "Post without a description" to go ahead. The preview is the API's
(``POST .../posts/preview``), which stores nothing and says which mentions were not found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.business import hours
from fedi_town.outbound.commands import MAX_CONTENT, MAX_MEDIA
from fedi_town.protocol.ids import parse_id
from fedi_town.store.businesses import Business
from fedi_town.text.sanitize import sanitize_html
from fedi_town.webapp.client import Api, ApiAnswer, api_for
from fedi_town.webapp.guard import Visitor, business_of, services_of, signed_in
from fedi_town.webapp.render import page, read_form, see_other

#: The longest content warning (schemas/post-create.schema.json, ``spoiler_text``).
MAX_WARNING = 500

#: Who sees a post, in the owner's words: (value, label, hint).
VISIBILITIES = (
    ("public", "Everyone", "Anyone can see it, and it shows on public timelines."),
    (
        "unlisted",
        "Everyone, quietly",
        "Anyone can see it on your profile, but it stays off public timelines.",
    ),
    ("followers", "Only your followers", "Your followers and the people you mention."),
    ("direct", "Only the people you mention", "A private message to each @name in the text."),
)
VISIBILITY_WORDS = {value: label for value, label, _ in VISIBILITIES}
#: Who may quote the post (FEP-044f); "" keeps the business's setting.
QUOTE_CHOICES = (
    ("", "As the business's setting", "What you chose for all your posts on the business page."),
    ("anyone", "Anyone", "Anyone on Mastodon can quote it in their own post."),
    ("followers", "Only your followers", "Only people who follow the business can quote it."),
    ("ask", "Ask me", "Anyone can ask; the quote shows once you approve it on the Quotes page."),
    ("nobody", "Nobody", "Nobody can quote it. Posts only followers can see never can."),
)
QUOTE_VALUES = frozenset(value for value, _, _ in QUOTE_CHOICES)

ACTIONS = ("preview", "post", "post_anyway")
NUDGE = "Describe the photo for people who cannot see it."
FIX_FIELDS = "Something needs changing: each problem is written under its field."


@dataclass
class Draft:
    """What the owner typed and picked, kept across every showing of the form."""

    content: str = ""
    spoiler_text: str = ""
    sensitive: bool = False
    visibility: str = "public"
    schedule_date: str = ""
    schedule_time: str = ""
    in_reply_to: str = ""
    #: anyone | followers | nobody, or "" for the business's setting
    quote_policy: str = ""
    #: The photos uploaded so far: the API's media JSON (``id``, ``url``, ``description``).
    photos: list[dict[str, Any]] = field(default_factory=list)

    @property
    def undescribed(self) -> list[dict[str, Any]]:
        return [p for p in self.photos if not str(p.get("description") or "").strip()]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def reply_uri(raw: str | None) -> str:
    """``raw`` when it looks like the id of a post on the web, else empty."""
    raw = (raw or "").strip()
    if raw.startswith(("https://", "http://")) and len(raw) <= 2048 and " " not in raw:
        return raw
    return ""


def draft_from_form(form: FormData) -> Draft:
    visibility = _text(form, "visibility")
    return Draft(
        content=_text(form, "content").replace("\r\n", "\n"),
        spoiler_text=_text(form, "spoiler_text").strip(),
        sensitive=_text(form, "sensitive") == "on",
        visibility=visibility if visibility in VISIBILITY_WORDS else "public",
        schedule_date=_text(form, "schedule_date").strip(),
        schedule_time=_text(form, "schedule_time").strip(),
        in_reply_to=reply_uri(_text(form, "in_reply_to")),
        quote_policy=quote if (quote := _text(form, "quote_policy")) in QUOTE_VALUES else "",
    )


# -- time, in the business's own zone --------------------------------------------------------


def zone_of(request: Request, business: Business) -> ZoneInfo:
    return hours.business_zone(business, services_of(request).settings.timezone)


def when_text(iso: str | None, zone: ZoneInfo) -> str:
    """``Tue 14 May, 07:00``: an API time as the shop's clock on the wall shows it."""
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone)
    return f"{moment:%a} {moment.day} {moment:%b}, {moment:%H:%M}"


def clock_text(iso: str | None, zone: ZoneInfo, now_ms: int) -> str:
    """``07:00`` today, ``Tue 14 May, 07:00`` on another day."""
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone)
    if moment.date() == hours.local_date(now_ms, zone):
        return f"{moment:%H:%M}"
    return when_text(iso, zone)


def scheduled_at(draft: Draft, zone: ZoneInfo) -> tuple[str | None, str | None]:
    """The ISO time to post at (None: now) from the day and time fields, or why not."""
    if not draft.schedule_date and not draft.schedule_time:
        return None, None
    if not draft.schedule_date or not draft.schedule_time:
        return None, "Give both a day and a time, or leave both empty to post now."
    try:
        day = date.fromisoformat(draft.schedule_date)
        clock = time.fromisoformat(draft.schedule_time)
    except ValueError:
        return None, "Write the day like 2026-05-14 and the time like 07:30."
    moment = datetime.combine(day, clock.replace(tzinfo=None), zone)
    return moment.isoformat(timespec="minutes"), None


# -- the API's answers in the owner's words -------------------------------------------------------


def plain_error(name: str, message: str, draft: Draft) -> str:
    """The API's sentence for field ``name``, said plainly where we know a better way."""
    low = message.lower()
    if name == "content":
        if "too long" in low or "longer than" in low:
            count = len(draft.content.strip())
            return (
                f"Your text has {count} characters; the most is {MAX_CONTENT}. "
                f"Shorten it by {max(count - MAX_CONTENT, 1)}."
            )
        if "non-empty" in low or "too short" in low or "is empty" in low:
            return "Write something first: a post needs some text."
    if name == "spoiler_text" and "too long" in low:
        return f"The content warning is too long: at most {MAX_WARNING} characters."
    if name == "schedule" and "future" in low:
        return "That time has already passed: pick a later one, or leave it empty to post now."
    if "too long" in low:
        return "This is too long."
    return message


#: Where an API error about a body field is shown on the form.
_FIELD_OF = {"scheduled_at": "schedule", "media_ids": "photos", "sensitive": "spoiler_text"}


def form_errors(answer: ApiAnswer, draft: Draft) -> dict[str, str]:
    """The API's field errors under the names of this form's fields."""
    found: dict[str, str] = {}
    for name, message in answer.field_errors.items():
        key = name.split(".")[0]
        key = _FIELD_OF.get(key, key)
        if key in {"content", "spoiler_text", "visibility", "schedule", "photos", "in_reply_to"}:
            found.setdefault(key, plain_error(key, message, draft))
    return found


def problem_text(answer: ApiAnswer, errors: dict[str, str]) -> str:
    if errors:
        return FIX_FIELDS
    return answer.detail or "That did not work. Try again in a moment."


def safe_html(value: object) -> Markup:
    """HTML from the API (already sanitised when written), cleaned once more to show it."""
    return Markup(sanitize_html(str(value or "")))  # noqa: S704 - sanitised just now


def unresolved_text(unresolved: list[dict[str, Any]]) -> str:
    """``@a@x.example (no such account there); ...`` for a flash or a list."""
    return "; ".join(f"{u.get('handle', '')} ({u.get('reason', '')})" for u in unresolved)


# -- photos ----------------------------------------------------------------------------------------


async def _kept_photos(
    api: Api, base: str, form: FormData, draft: Draft, errors: dict[str, str]
) -> list[dict[str, Any]]:
    """The photos uploaded by an earlier showing of the form, with their new descriptions;
    those ticked "Remove" are deleted."""
    kept: list[dict[str, Any]] = []
    for raw in dict.fromkeys(v for v in form.getlist("media_id") if isinstance(v, str)):
        media_id = parse_id(raw)
        if media_id is None:
            continue
        answer = await api.get(f"{base}/media/{media_id}")
        if not answer.ok or not isinstance(answer.data, dict):
            continue  # not this business's, or gone: nothing to keep
        media: dict[str, Any] = answer.data
        if _text(form, f"remove_{media_id}") == "on" and media.get("post_id") is None:
            await api.delete(f"{base}/media/{media_id}")
            continue
        typed = form.get(f"description_{media_id}")
        if isinstance(typed, str) and typed.strip() != (media.get("description") or ""):
            changed = await api.patch(f"{base}/media/{media_id}", {"description": typed.strip()})
            if changed.ok and isinstance(changed.data, dict):
                media = changed.data
            else:
                media = {**media, "description": typed.strip()}
                message = changed.field_errors.get("description") or changed.detail
                errors[f"description_{media_id}"] = plain_error("description", message, draft)
        kept.append(media)
    return kept


def _picked(form: FormData) -> list[UploadFile]:
    return [
        f for f in form.getlist("photos") if isinstance(f, UploadFile) and f.filename and f.size
    ]


async def _upload_new(
    api: Api, base: str, form: FormData, room: int, draft: Draft, errors: dict[str, str]
) -> list[dict[str, Any]]:
    """Upload the photos picked this time (each with the description typed beside it, when
    the page's script offered one); at most ``room`` of them."""
    picked = _picked(form)
    if len(picked) > room:
        errors["photos"] = (
            f"A post can have {MAX_MEDIA} photos at most: you picked {len(picked)}"
            + (f" and {MAX_MEDIA - room} are already added." if room < MAX_MEDIA else ".")
            + " Pick fewer."
        )
        return []
    descriptions = [v for v in form.getlist("new_description") if isinstance(v, str)]
    uploaded: list[dict[str, Any]] = []
    failed: list[str] = []
    for index, upload in enumerate(picked):
        data = await upload.read()
        description = descriptions[index].strip() if index < len(descriptions) else ""
        answer = await api.post(
            f"{base}/media",
            files={"file": (upload.filename, data, upload.content_type or "image/jpeg")},
            data={"description": description},
        )
        if answer.ok and isinstance(answer.data, dict):
            uploaded.append(answer.data)
        else:
            failed.append(f"{upload.filename}: {_upload_problem(answer)}")
    if failed:
        errors["photos"] = "Not added: " + "; ".join(failed)
    return uploaded


def _upload_problem(answer: ApiAnswer) -> str:
    if answer.status == 415:
        return "this is not a photo we can use; take or pick a photo instead"
    if answer.status == 413:
        return "this photo is too large"
    return answer.detail or "the photo could not be read"


def post_body(draft: Draft, when: str | None) -> dict[str, Any]:
    """The JSON the API takes (schemas/post-create.schema.json)."""
    body: dict[str, Any] = {"content": draft.content, "visibility": draft.visibility}
    if draft.spoiler_text:
        body["spoiler_text"] = draft.spoiler_text
    if draft.sensitive:
        body["sensitive"] = True
    if draft.in_reply_to:
        body["in_reply_to"] = draft.in_reply_to
    if draft.quote_policy:
        body["quote_policy"] = draft.quote_policy
    if draft.photos:
        body["media_ids"] = [str(p["id"]) for p in draft.photos]
    if when:
        body["scheduled_at"] = when
    return body


# -- pages ---------------------------------------------------------------------------------------


def _render(
    request: Request,
    visitor: Visitor,
    business: Business,
    draft: Draft,
    *,
    errors: dict[str, str] | None = None,
    problem: str = "",
    preview: dict[str, Any] | None = None,
    profile: dict[str, Any] | None = None,
    nudge: bool = False,
    status: int = 200,
) -> Response:
    zone = zone_of(request, business)
    shown_preview = None
    if preview is not None:
        shown_preview = {
            **preview,
            "content_html": safe_html(preview.get("content_html")),
            "when": when_text(preview.get("scheduled_at"), zone),
            "visibility_words": VISIBILITY_WORDS.get(str(preview.get("visibility")), ""),
        }
    context: dict[str, Any] = {
        "business": business,
        "draft": draft,
        "errors": errors or {},
        "problem": problem,
        "preview": shown_preview,
        "profile": profile or {},
        "nudge": nudge,
        "nudge_words": NUDGE,
        "visibilities": VISIBILITIES,
        "quote_choices": QUOTE_CHOICES,
        "max_characters": MAX_CONTENT,
        "max_warning": MAX_WARNING,
        "max_photos": MAX_MEDIA,
        "zone_name": str(zone),
        "today": datetime.now(zone).date().isoformat(),
    }
    return page(request, visitor, "app/compose.html", context, status=status)


async def compose_page(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    params = request.query_params
    visibility = params.get("visibility") or "public"
    draft = Draft(
        in_reply_to=reply_uri(params.get("in_reply_to")),
        content=(params.get("content") or "")[:MAX_CONTENT],
        visibility=visibility if visibility in VISIBILITY_WORDS else "public",
    )
    return _render(request, visitor, business, draft)


async def submit(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    api = api_for(request, visitor, business)
    base = f"/api/v1/businesses/{business.username}"
    action = _text(form, "action")
    action = action if action in ACTIONS else "post"
    draft = draft_from_form(form)
    errors: dict[str, str] = {}
    draft.photos = await _kept_photos(api, base, form, draft, errors)
    room = MAX_MEDIA - len(draft.photos)
    draft.photos += await _upload_new(api, base, form, room, draft, errors)
    zone = zone_of(request, business)
    when, schedule_problem = scheduled_at(draft, zone)
    if schedule_problem:
        errors["schedule"] = schedule_problem
    if errors:
        return _render(
            request, visitor, business, draft, errors=errors, problem=FIX_FIELDS, status=422
        )
    body = post_body(draft, when)
    if action == "preview":
        answer = await api.post(f"{base}/posts/preview", body)
        if not answer.ok:
            errors = form_errors(answer, draft)
            problem = problem_text(answer, errors)
            return _render(
                request,
                visitor,
                business,
                draft,
                errors=errors,
                problem=problem,
                status=answer.status,
            )
        profile = await api.get(base)
        return _render(
            request,
            visitor,
            business,
            draft,
            preview=answer.data,
            profile=profile.data if profile.ok else {},
            nudge=bool(draft.undescribed),
        )
    if action == "post" and draft.undescribed:
        return _render(request, visitor, business, draft, nudge=True)
    answer = await api.post(f"{base}/posts", body)
    if not answer.ok or not isinstance(answer.data, dict):
        errors = form_errors(answer, draft)
        problem = problem_text(answer, errors)
        return _render(
            request,
            visitor,
            business,
            draft,
            errors=errors,
            problem=problem,
            status=answer.status if answer.status >= 400 else 500,
        )
    post = answer.data
    if post.get("scheduled"):
        done = f"Scheduled: it will be posted {when_text(post.get('scheduled_at'), zone)}."
    else:
        done = "Posted."
    unresolved = post.get("unresolved_mentions") or []
    if unresolved:
        done += " Not found, so not mentioned: " + unresolved_text(unresolved) + "."
    return see_other(request, f"/app/{business.username}/posts/{post['id']}", done)


routes = [
    Route("/app/{username}/compose", compose_page, methods=["GET"]),
    Route("/app/{username}/compose", submit, methods=["POST"]),
]
