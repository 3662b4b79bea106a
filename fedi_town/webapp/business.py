"""The business page: what a customer learns about the shop, each part its own small form.

    GET  /app/{username}/business                          every section, filled from the API
    POST /app/{username}/business/profile                  name, bio, photos, contact, category
    POST /app/{username}/business/place                    address, or the area served
    POST /app/{username}/business/hours                    the week's opening times
    POST /app/{username}/business/special-hours            one more dated change of the hours
    POST /app/{username}/business/special-hours/remove     take one away (index, start)
    POST /app/{username}/business/timezone                 the zone the times are read in
    POST /app/{username}/business/notice                   a notice and when it ends, or none
    POST /app/{username}/business/directory                listed on the high street or not
    POST /app/{username}/business/quotes                   who may quote its posts (FEP-044f)

Every form becomes the body of ``PATCH /api/v1/businesses/{username}`` (``business_forms``)
and is sent in process, so the API's rules are the only rules. On success the answer is a
303 back to the section; on a refusal the page comes again with status 422, the section
as typed and the API's sentence next to the field it names, while the other sections show
what is saved: a mistake in one form never loses another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.business import hours as hours_logic
from fedi_town.business import place as place_logic
from fedi_town.store.businesses import Business
from fedi_town.webapp import business_forms as forms
from fedi_town.webapp.client import Api, ApiAnswer, api_for
from fedi_town.webapp.guard import Visitor, business_of, services_of, signed_in
from fedi_town.webapp.render import page, read_form, see_other

#: The inputs of each section (names or prefixes): what a refused form shows as typed.
SECTION_FIELDS: dict[str, tuple[str, ...]] = {
    "profile": (*forms.PROFILE_TEXT, "avatar.", "header."),
    "place": ("location.", "service_area", "place_kind"),
    "hours": ("hours.",),
    "special": ("special.",),
    "timezone": ("timezone",),
    "notice": ("notice.",),
    "directory": ("in_directory",),
    "quotes": ("quote_policy",),
    "aliases": ("also_known_as",),
}
DONE = {
    "profile": "Profile saved.",
    "place": "Address saved.",
    "hours": "Opening hours saved.",
    "special": "Special hours added.",
    "timezone": "Time zone saved.",
    "notice": "Notice saved: it is on your profile now.",
    "directory": "Saved.",
    "quotes": "Saved: your posts now say who may quote them.",
    "aliases": "Saved: when that account moves here, its followers come with it.",
}
PHOTOS = {"avatar": "profile photo", "header": "header photo"}


def api_path(business: Business) -> str:
    return f"/api/v1/businesses/{business.username}"


def page_path(business: Business) -> str:
    return f"/app/{business.username}/business"


def zone_of(request: Request, business: Business) -> Any:
    return hours_logic.business_zone(business, services_of(request).settings.timezone)


def problem_words(answer: ApiAnswer) -> str:
    """A refusal that names no field, in a sentence."""
    return forms.plain("", answer.detail) if answer.detail else "This was not saved. Try again."


async def upload_photo(
    api: Api, business: Business, upload: UploadFile, description: str = ""
) -> tuple[str | None, str | None]:
    """Upload a chosen photo (``POST …/media``): its media id, or the sentence why not."""
    data = await upload.read()
    if not data:
        return None, "This file is empty. Choose the photo again."
    answer = await api.post(
        f"{api_path(business)}/media",
        files={"file": (upload.filename or "photo", data, upload.content_type or "")},
        data={"description": description} if description else None,
    )
    if answer.ok and isinstance(answer.data, dict):
        return str(answer.data["id"]), None
    found = answer.raw_field_errors
    return None, forms.plain("file", next(iter(found.values()), "") or answer.detail)


def chosen(form: FormData, name: str) -> UploadFile | None:
    """The file chosen in the input ``name``, if one was (a browser sends an empty part
    for a file input left alone)."""
    value = form.get(name)
    if isinstance(value, UploadFile) and value.filename:
        return value
    return None


def _special_rows(view: Mapping[str, Any], today: date) -> list[dict[str, Any]]:
    rows = []
    for index, entry in enumerate(view.get("special_hours") or []):
        start = date.fromisoformat(entry["start"])
        end = date.fromisoformat(entry["end"]) if entry.get("end") else start
        when = f"{start:%a} {start.day} {start:%b %Y}"
        if end != start:
            when += f" to {end:%a} {end.day} {end:%b %Y}"
        times = ", ".join(f"{a}–{b}" for a, b in entry.get("hours") or []) or "Closed"
        rows.append(
            {
                "index": index,
                "start": entry["start"],
                "when": when,
                "times": times,
                "label": entry.get("label") or "",
                "past": end < today,
            }
        )
    return rows


def _grouped(errors: Mapping[str, str], prefix: str) -> list[str]:
    """The distinct sentences about ``prefix`` and the fields under it."""
    found: list[str] = []
    for name, message in errors.items():
        if (name == prefix or name.startswith(prefix + ".")) and message not in found:
            found.append(message)
    return found


async def _counts(api: Api, business: Business) -> dict[str, int]:
    counts = {}
    for plural, flag in (("offers", "current"), ("events", "upcoming")):
        answer = await api.get(f"{api_path(business)}/{plural}", {"limit": 40})
        items = (answer.data or {}).get("items", []) if answer.ok else []
        counts[plural] = sum(1 for item in items if item.get(flag))
    return counts


async def show(
    request: Request,
    visitor: Visitor,
    business: Business,
    *,
    section: str = "",
    form: FormData | None = None,
    errors: Mapping[str, str] | None = None,
    problem: str = "",
    kept: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The page: saved values everywhere, but ``section`` as ``form`` had it, with
    ``errors`` next to its fields."""
    api = api_for(request, visitor, business)
    view_answer = await api.get(api_path(business))
    view: dict[str, Any] = view_answer.data if view_answer.ok else {}
    zone = zone_of(request, business)
    values = forms.business_values(view, zone)
    if section and form is not None:
        fields = SECTION_FIELDS[section]
        values = {k: "" if k.startswith(fields) else v for k, v in values.items()}
        values |= forms.posted_values(form, fields)
    values |= dict(kept or {})
    errors = dict(errors or {})
    today = hours_logic.local_date(services_of(request).now_ms(), zone)
    published = place_logic.published(view.get("location"), view.get("service_area"))
    context = {
        "business": business,
        "view": view,
        "values": values,
        "errors": errors,
        "section": section,
        "problem": problem,
        "days": [(day, forms.DAY_WORDS[day]) for day in hours_logic.DAYS],
        "slots": {day: forms.slots_of(values, f"hours.{day}") for day in hours_logic.DAYS},
        "special_slots": forms.slots_of(values, "special.hours"),
        "day_errors": {day: _grouped(errors, f"hours.{day}") for day in hours_logic.DAYS},
        "special_rows": _special_rows(view, today),
        "categories": forms.category_choices(),
        "zone_groups": forms.zone_groups(),
        "known_zone": any(values["timezone"] in names for _, names in forms.zone_groups()),
        "default_zone": services_of(request).settings.timezone,
        "map_link": place_logic.osm_link(published),
        "address_lines": place_logic.address_lines(published),
        "counts": await _counts(api, business),
    }
    return page(request, visitor, "app/business.html", context, status=status)


async def business_page(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    return await show(request, visitor, business)


async def _patch_section(
    request: Request,
    section: str,
    convert: Callable[[FormData, Request, Business, dict[str, Any]], forms.Converted],
) -> Response:
    """Convert the section's form, PATCH it, answer with a 303 or the page with errors."""
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    api = api_for(request, visitor, business)
    current: dict[str, Any] = {}
    if section == "special":
        answer = await api.get(api_path(business))
        current = answer.data if answer.ok else {}
    converted = convert(form, request, business, current)
    if converted.problems:
        return await show(
            request,
            visitor,
            business,
            section=section,
            form=form,
            errors=converted.problems,
            status=422,
        )
    answer = await api.patch(api_path(business), converted.body)
    if answer.ok:
        return see_other(request, f"{page_path(business)}#{section}", DONE[section])
    errors = converted.errors(answer.raw_field_errors)
    return await show(
        request,
        visitor,
        business,
        section=section,
        form=form,
        errors=errors,
        problem="" if errors else problem_words(answer),
        status=answer.status if answer.status >= 400 else 422,
    )


async def save_profile(request: Request) -> Response:
    """The profile, with a new photo uploaded first (its id kept if the rest is refused)."""
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    api = api_for(request, visitor, business)
    converted = forms.profile_body(form)
    body = dict(converted.body)
    errors: dict[str, str] = {}
    kept: dict[str, str] = {}
    for which in PHOTOS:
        if forms.ticked(form, f"{which}.remove"):
            body[f"{which}_media_id"] = None
        if previous := forms.text(form, f"{which}.kept"):
            body[f"{which}_media_id"] = kept[f"{which}.kept"] = previous
        upload = chosen(form, which)
        if upload is None:
            continue
        media_id, why = await upload_photo(api, business, upload)
        if media_id is None:
            errors[which] = why or "This photo was not accepted."
        else:
            body[f"{which}_media_id"] = kept[f"{which}.kept"] = media_id
    problem = ""
    if not errors:
        answer = await api.patch(api_path(business), body)
        if answer.ok:
            return see_other(request, f"{page_path(business)}#profile", DONE["profile"])
        errors = converted.errors(answer.raw_field_errors)
        problem = "" if errors else problem_words(answer)
    return await show(
        request,
        visitor,
        business,
        section="profile",
        form=form,
        errors=errors,
        problem=problem,
        kept=kept,
        status=422,
    )


def _place(form: FormData, request: Request, business: Business, _: Any) -> forms.Converted:
    return forms.place_body(form)


def _hours(form: FormData, request: Request, business: Business, _: Any) -> forms.Converted:
    return forms.week_body(form)


def _special(
    form: FormData, request: Request, business: Business, current: dict[str, Any]
) -> forms.Converted:
    return forms.special_body(form, list(current.get("special_hours") or []))


def _timezone(form: FormData, request: Request, business: Business, _: Any) -> forms.Converted:
    return forms.timezone_body(form)


def _notice(form: FormData, request: Request, business: Business, _: Any) -> forms.Converted:
    return forms.notice_body(form, zone_of(request, business))


def _directory(form: FormData, request: Request, business: Business, _: Any) -> forms.Converted:
    return forms.directory_body(form)


def _quotes(form: FormData, request: Request, business: Business, _: Any) -> forms.Converted:
    return forms.quotes_body(form)


async def save_place(request: Request) -> Response:
    return await _patch_section(request, "place", _place)


async def save_hours(request: Request) -> Response:
    return await _patch_section(request, "hours", _hours)


async def add_special(request: Request) -> Response:
    return await _patch_section(request, "special", _special)


async def save_timezone(request: Request) -> Response:
    return await _patch_section(request, "timezone", _timezone)


async def save_notice(request: Request) -> Response:
    return await _patch_section(request, "notice", _notice)


async def save_directory(request: Request) -> Response:
    return await _patch_section(request, "directory", _directory)


async def save_quotes(request: Request) -> Response:
    return await _patch_section(request, "quotes", _quotes)


async def remove_special(request: Request) -> Response:
    """Take away one dated change, named by its place in the list and its first day (so
    a list changed meanwhile in another tab removes nothing by mistake)."""
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    api = api_for(request, visitor, business)
    answer = await api.get(api_path(business))
    existing = list((answer.data or {}).get("special_hours") or []) if answer.ok else []
    index = forms.text(form, "index")
    here = f"{page_path(business)}#special"
    if not index.isdigit() or int(index) >= len(existing):
        return see_other(request, here, "Those special hours were already removed.")
    if existing[int(index)].get("start") != forms.text(form, "start"):
        return see_other(request, here, "The list had changed: nothing was removed. Look again.")
    rest = existing[: int(index)] + existing[int(index) + 1 :]
    answer = await api.patch(api_path(business), {"special_hours": rest or None})
    if not answer.ok:
        return see_other(request, here, problem_words(answer))
    return see_other(request, here, "Special hours removed.")


async def save_aliases(request: Request) -> Response:
    """The owner's other accounts, one per line (``PUT …/aliases``: each is looked up)."""
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    api = api_for(request, visitor, business)
    lines = [line.strip() for line in forms.text(form, "also_known_as").splitlines()]
    answer = await api.put(
        f"{api_path(business)}/aliases", {"also_known_as": [x for x in lines if x]}
    )
    if answer.ok:
        return see_other(request, f"{page_path(business)}#aliases", DONE["aliases"])
    found = answer.raw_field_errors
    errors = {"also_known_as": next(iter(found.values()))} if found else {}
    return await show(
        request,
        visitor,
        business,
        section="aliases",
        form=form,
        errors=errors,
        problem="" if errors else problem_words(answer),
        status=answer.status if answer.status >= 400 else 422,
    )


routes = [
    Route("/app/{username}/business", business_page, methods=["GET"]),
    Route("/app/{username}/business/profile", save_profile, methods=["POST"]),
    Route("/app/{username}/business/place", save_place, methods=["POST"]),
    Route("/app/{username}/business/hours", save_hours, methods=["POST"]),
    Route("/app/{username}/business/special-hours", add_special, methods=["POST"]),
    Route("/app/{username}/business/special-hours/remove", remove_special, methods=["POST"]),
    Route("/app/{username}/business/timezone", save_timezone, methods=["POST"]),
    Route("/app/{username}/business/notice", save_notice, methods=["POST"]),
    Route("/app/{username}/business/directory", save_directory, methods=["POST"]),
    Route("/app/{username}/business/quotes", save_quotes, methods=["POST"]),
    Route("/app/{username}/business/aliases", save_aliases, methods=["POST"]),
]
