"""Who signs in for a business: its people, their open invites, a new link for someone.

    GET  /app/{username}/people                     people and open invites (owners; staff
                                                    are told to ask an owner)
    POST /app/{username}/people/invite              role=owner|staff: the link, shown once
    POST /app/{username}/people/invites/{id}/withdraw   the link stops working
    POST /app/{username}/people/{id}/reset          a new-password link, shown once
    GET  /app/{username}/people/{id}/remove         "Remove Anna?"
    POST /app/{username}/people/{id}/remove         removed and signed out; never the last owner

A new link exists only in the API's answer, so the page that shows it is the answer to the
form itself (201, ``no-store`` like every app page), never a redirect: it must not travel in
a Location header or the flash cookie, nor come back on reload of another page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.store.businesses import Business
from fedi_town.webapp.client import Api, ApiAnswer, api_for
from fedi_town.webapp.guard import Visitor, business_of, signed_in
from fedi_town.webapp.render import page, read_form, see_other

ROLE_WORDS = {"owner": "Owner", "staff": "Staff", "admin": "Instance admin"}
ROLE_HINTS = {
    "staff": "Writes posts, answers customers, changes hours and the business details.",
    "owner": "All of that, and invites or removes people.",
}
#: What a page says for an API field error, where the API's own words are a schema's.
INVITE_WORDS = {"role": "Choose owner or staff."}


@dataclass(frozen=True)
class NewLink:
    """A link made just now: shown on this one answer, then gone."""

    url: str
    heading: str
    sentence: str


def when(iso: str | None) -> str:
    """``23 Nov 2026, 14:05 UTC`` from the API's ISO 8601 (UTC) time."""
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def lasts(invite: dict[str, Any]) -> str:
    """How long a link works, from its ``created_at`` and ``expires_at`` ("7 days")."""
    start = datetime.fromisoformat(str(invite["created_at"]).replace("Z", "+00:00"))
    end = datetime.fromisoformat(str(invite["expires_at"]).replace("Z", "+00:00"))
    hours = round((end - start).total_seconds() / 3600)
    if hours > 24 and hours % 24 == 0:
        return f"{hours // 24} days"
    return f"{hours} hour{'' if hours == 1 else 's'}"


def new_link(invite: dict[str, Any], heading: str, who: str = "them") -> NewLink:
    """The box for a link the API just made (``invite``: its answer, with ``url``)."""
    return NewLink(
        url=str(invite["url"]),
        heading=heading,
        sentence=f"Send this link to {who}; it works once, for {lasts(invite)}.",
    )


def plain_errors(answer: ApiAnswer, words: dict[str, str]) -> dict[str, str]:
    """The answer's field errors, in ``words`` where the page has its own sentence."""
    return {name: words.get(name, message) for name, message in answer.field_errors.items()}


def sentence(text: str) -> str:
    """The API's problem detail as a sentence on a page (capital first letter)."""
    return text[:1].upper() + text[1:] if text else "That did not work. Try again."


def refused(
    request: Request, visitor: Visitor, answer: ApiAnswer, business: Business | None
) -> Response:
    """A page that says why the API refused (403, 404, ...), with the API's status."""
    return page(
        request,
        visitor,
        "app/message.html",
        {"business": business, "title": "Not done", "message": sentence(answer.detail)},
        status=answer.status,
    )


def _base(business: Business) -> str:
    return f"/api/v1/businesses/{business.username}"


def _invite_words(invite: dict[str, Any], names: dict[str, str]) -> dict[str, str]:
    """What an open invite is ("Staff invite") and its button ("Withdraw the staff invite")."""
    if invite.get("for_person"):
        what = f"new password link for {names.get(invite['for_person'], 'someone')}"
    else:
        what = f"{invite['role']} invite"
    return {"what": sentence(what), "withdraw": f"Withdraw the {what}"}


async def _people_page(
    request: Request,
    visitor: Visitor,
    business: Business,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    """The people page (``extra``: a new link, errors, a problem sentence, a person to remove)."""
    answer = await api_for(request, visitor, business).get(f"{_base(business)}/people")
    people = answer.data.get("people", []) if answer.ok else []
    names = {p["id"]: p["display_name"] for p in people}
    invites = [
        {**i, "expires": when(i["expires_at"]), **_invite_words(i, names)}
        for i in (answer.data.get("invites", []) if answer.ok else [])
    ]
    context: dict[str, Any] = {
        "business": business,
        "may_manage": answer.ok,
        "people": people,
        "invites": invites,
        "role_words": ROLE_WORDS,
        "role_hints": ROLE_HINTS,
        "me": str(visitor.person.id),
        "new_link": None,
        "problem": None,
        "removing": None,
        "chosen_role": "staff",
        **extra,
    }
    return page(request, visitor, "app/people.html", context, status=status)


async def people(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    return await _people_page(request, visitor, business)


async def invite(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    role = str(form.get("role", ""))
    answer = await api_for(request, visitor, business).post(
        f"{_base(business)}/invites", {"role": role}
    )
    if answer.status == 422:
        errors = plain_errors(answer, INVITE_WORDS) or {"role": INVITE_WORDS["role"]}
        return await _people_page(request, visitor, business, status=422, errors=errors)
    if not answer.ok:
        return refused(request, visitor, answer, business)
    words = "an owner" if role == "owner" else "a member of staff"
    link = new_link(answer.data, f"Invite link for {words}")
    return await _people_page(request, visitor, business, status=201, new_link=link)


async def withdraw(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    await read_form(request, visitor)
    answer = await api_for(request, visitor, business).delete(
        f"{_base(business)}/invites/{request.path_params['id']}"
    )
    here = f"/app/{business.username}/people"
    if answer.status == 404:
        return see_other(request, here, "That invite had already ended.")
    if not answer.ok:
        return refused(request, visitor, answer, business)
    return see_other(request, here, "Invite withdrawn: the link no longer works.")


async def reset(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    await read_form(request, visitor)
    api = api_for(request, visitor, business)
    person_id = request.path_params["id"]
    person = await _person(api, business, person_id)
    answer = await api.post(f"{_base(business)}/people/{person_id}/reset")
    if not answer.ok:
        return refused(request, visitor, answer, business)
    name = person["display_name"] if person is not None else "them"
    link = new_link(answer.data, f"New password link for {name}", who=name)
    return await _people_page(request, visitor, business, status=201, new_link=link)


async def _person(api: Api, business: Business, person_id: int) -> dict[str, Any] | None:
    """The person ``person_id`` as the API lists them (None: not here, or not yours to see)."""
    answer = await api.get(f"{_base(business)}/people")
    if not answer.ok:
        return None
    found: dict[str, Any] | None = next(
        (p for p in answer.data.get("people", []) if p["id"] == str(person_id)), None
    )
    return found


async def confirm_remove(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    person = await _person(api_for(request, visitor, business), business, request.path_params["id"])
    if person is None:
        return await _people_page(
            request, visitor, business, status=404, problem="There is no such person here."
        )
    return await _people_page(request, visitor, business, removing=person)


async def remove(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    await read_form(request, visitor)
    api = api_for(request, visitor, business)
    person_id = request.path_params["id"]
    person = await _person(api, business, person_id)
    answer = await api.delete(f"{_base(business)}/people/{person_id}")
    if answer.status == 409:
        return await _people_page(
            request, visitor, business, status=409, problem=sentence(answer.detail)
        )
    if not answer.ok:
        return refused(request, visitor, answer, business)
    if person_id == visitor.person.id:
        return see_other(request, "/login", "You removed yourself and were signed out.")
    name = person["display_name"] if person is not None else "They"
    return see_other(
        request,
        f"/app/{business.username}/people",
        f"{name} was removed and signed out everywhere.",
    )


_PEOPLE = "/app/{username}/people"

routes = [
    Route(_PEOPLE, people, methods=["GET"]),
    Route(f"{_PEOPLE}/invite", invite, methods=["POST"]),
    Route(f"{_PEOPLE}/invites/{{id:int}}/withdraw", withdraw, methods=["POST"]),
    Route(f"{_PEOPLE}/{{id:int}}/reset", reset, methods=["POST"]),
    Route(f"{_PEOPLE}/{{id:int}}/remove", confirm_remove, methods=["GET"]),
    Route(f"{_PEOPLE}/{{id:int}}/remove", remove, methods=["POST"]),
]
