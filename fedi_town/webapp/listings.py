"""Offers and events: the owner's lists, a form to write one, change it or withdraw it.

    GET  /app/{username}/offers                  running now, then ended (``?max_id=``: older)
    GET  /app/{username}/offers/new              the form
    POST /app/{username}/offers                  publish: the offer and a post to followers
    GET  /app/{username}/offers/{id}             the form, filled
    POST /app/{username}/offers/{id}             save the changes (its post is edited)
    POST /app/{username}/offers/{id}/delete      withdraw it (its post is deleted)

and the same under ``/events``. Everything goes through the offers and events API
(``api.offers``, ``api.events``): publishing there writes the announcing post, so "publish"
is the form's button. A form sends only what changed, so an ended offer can get a new text
without its old end date being refused as "in the past". A photo is uploaded first
(``POST …/media``); if the rest is refused its id is kept in the form, so nothing is chosen
twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import NotFound
from fedi_town.store.businesses import Business
from fedi_town.webapp import business_forms as forms
from fedi_town.webapp.business import api_path, chosen, problem_words, upload_photo, zone_of
from fedi_town.webapp.client import Api, ApiAnswer, api_for
from fedi_town.webapp.guard import Visitor, business_of, signed_in
from fedi_town.webapp.render import page, read_form, see_other

PLACE_KEYS = ("name", "street_address", "postal_code", "locality", "region", "country")
LIST_LIMIT = 40


def _moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _day(moment: datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b %Y}"


def when_words(start: str | None, end: str | None, *, offer: bool = False) -> str:
    """An offer's or event's time in words, on the shop's clock (the API's times carry the
    business's offset): "Sat 12 Dec 2026, 10:00–16:00", "Until Sun 7 Dec 2026, 18:00"."""
    if offer:
        if start and end:
            a, b = _moment(start), _moment(end)
            return f"{_day(a)}, {a:%H:%M} to {_day(b)}, {b:%H:%M}"
        if end:
            b = _moment(end)
            return f"Until {_day(b)}, {b:%H:%M}"
        if start:
            a = _moment(start)
            return f"From {_day(a)}, {a:%H:%M}, until you withdraw it"
        return "Until you withdraw it"
    if not (start and end):
        return ""
    a, b = _moment(start), _moment(end)
    if a.date() == b.date():
        return f"{_day(a)}, {a:%H:%M}–{b:%H:%M}"
    return f"{_day(a)}, {a:%H:%M} to {_day(b)}, {b:%H:%M}"


# -- forms and values ----------------------------------------------------------------------


def offer_body(form: Mapping[str, Any]) -> forms.Converted:
    currency = forms.text(form, "currency").upper() or None
    body = {
        "title": " ".join(forms.text(form, "title").split()),
        "text": forms.text(form, "text"),
        "price": forms.price(forms.text(form, "price")),
        "currency": currency,
        "valid_from": forms.optional(form, "valid_from"),
        "valid_until": forms.optional(form, "valid_until"),
    }
    return forms.Converted(body, {"media_id": "photo"})


def offer_values(item: Mapping[str, Any]) -> dict[str, str]:
    return {
        "title": item.get("title") or "",
        "text": item.get("text") or "",
        "price": item.get("price") or "",
        "currency": item.get("currency") or "",
        "valid_from": forms.input_moment(item.get("valid_from")),
        "valid_until": forms.input_moment(item.get("valid_until")),
    }


def event_body(form: Mapping[str, Any]) -> forms.Converted:
    place: dict[str, Any] | None = None
    if forms.text(form, "place_kind") == "elsewhere":
        place = {key: forms.optional(form, f"place.{key}") for key in PLACE_KEYS}
        place["name"] = place["name"] or ""
        if place["country"]:
            place["country"] = place["country"].upper()
        place["latitude"] = forms.number(forms.text(form, "place.latitude"))
        place["longitude"] = forms.number(forms.text(form, "place.longitude"))
    body = {
        "title": " ".join(forms.text(form, "title").split()),
        "text": forms.text(form, "text"),
        "start": forms.text(form, "start"),
        "end": forms.text(form, "end"),
        "place": place,
    }
    return forms.Converted(body, {"media_id": "photo"})


def event_values(item: Mapping[str, Any]) -> dict[str, str]:
    place = item.get("place") or {}
    values = {
        "title": item.get("title") or "",
        "text": item.get("text") or "",
        "start": forms.input_moment(item.get("start")),
        "end": forms.input_moment(item.get("end")),
        "place_kind": "elsewhere" if place else "shop",
    }
    for key in (*PLACE_KEYS, "latitude", "longitude"):
        found = place.get(key)
        values[f"place.{key}"] = "" if found is None else str(found)
    return values


def changes(body: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """The keys of ``body`` whose value differs from ``before`` (the same form, as saved)."""
    return {key: value for key, value in body.items() if before.get(key) != value}


# -- the pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """What differs between the offers and the events pages."""

    #: "offer": its words and its template ``app/listings_offer.html``
    name: str
    #: "offers": its path under the business, in the app and in the API
    plural: str
    #: the API's flag for "still on the profile": "current", "upcoming"
    flag: str
    #: what "still on" is called on the list: "Running now", "Coming up"
    now_heading: str
    to_body: Callable[[Mapping[str, Any]], forms.Converted]
    to_values: Callable[[Mapping[str, Any]], dict[str, str]]

    def routes(self) -> list[Route]:
        base = f"/app/{{username}}/{self.plural}"
        return [
            Route(base, self.list_page, methods=["GET"]),
            Route(base, self.create, methods=["POST"]),
            Route(base + "/new", self.new_form, methods=["GET"]),
            Route(base + "/{id:int}", self.edit_form, methods=["GET"]),
            Route(base + "/{id:int}", self.save, methods=["POST"]),
            Route(base + "/{id:int}/delete", self.withdraw, methods=["POST"]),
        ]

    def app_path(self, business: Business) -> str:
        return f"/app/{business.username}/{self.plural}"

    def api_list(self, business: Business) -> str:
        return f"{api_path(business)}/{self.plural}"

    def words(self, item: Mapping[str, Any]) -> str:
        if self.name == "offer":
            return when_words(item.get("valid_from"), item.get("valid_until"), offer=True)
        return when_words(item.get("start"), item.get("end"))

    async def list_page(self, request: Request) -> Response:
        visitor = await signed_in(request)
        business = await business_of(request, visitor)
        api = api_for(request, visitor, business)
        max_id = request.query_params.get("max_id")
        answer = await api.get(
            self.api_list(business),
            {"limit": LIST_LIMIT, "max_id": max_id if max_id and max_id.isdigit() else None},
        )
        items = (answer.data or {}).get("items", []) if answer.ok else []
        for item in items:
            item["when"] = self.words(item)
        live = [item for item in items if item.get(self.flag)]
        if self.name == "event":
            live.sort(key=lambda item: _moment(item["start"]))
        older = None
        if answer.ok and (answer.data or {}).get("next") and items:
            older = f"{self.app_path(business)}?max_id={items[-1]['id']}"
        context = {
            "business": business,
            "listing": self,
            "live": live,
            "ended": [item for item in items if not item.get(self.flag)],
            "older": older,
            "problem": "" if answer.ok else problem_words(answer),
        }
        return page(request, visitor, "app/listings.html", context)

    async def _form(
        self,
        request: Request,
        visitor: Visitor,
        business: Business,
        *,
        item: Mapping[str, Any] | None,
        values: dict[str, str],
        errors: Mapping[str, str] | None = None,
        problem: str = "",
        status: int = 200,
    ) -> Response:
        context = {
            "business": business,
            "listing": self,
            "item": item,
            "values": values,
            "errors": dict(errors or {}),
            "problem": problem,
            "zone_name": zone_of(request, business).key,
            "action": (
                f"{self.app_path(business)}/{item['id']}" if item else self.app_path(business)
            ),
        }
        return page(request, visitor, f"app/listings_{self.name}.html", context, status=status)

    async def _last_currency(self, api: Api, business: Business) -> str:
        """The currency of the newest offer with a price: what the next one likely uses."""
        if self.name != "offer":
            return ""
        answer = await api.get(self.api_list(business), {"limit": 20})
        for item in (answer.data or {}).get("items", []) if answer.ok else []:
            if item.get("currency"):
                return str(item["currency"])
        return ""

    async def new_form(self, request: Request) -> Response:
        visitor = await signed_in(request)
        business = await business_of(request, visitor)
        api = api_for(request, visitor, business)
        values = {"currency": await self._last_currency(api, business), "place_kind": "shop"}
        return await self._form(request, visitor, business, item=None, values=values)

    async def _item(self, api: Api, business: Business, item_id: int) -> dict[str, Any]:
        answer = await api.get(f"{self.api_list(business)}/{item_id}")
        if not answer.ok or not isinstance(answer.data, dict):
            raise_not_found(self.name)
        found: dict[str, Any] = answer.data
        return found

    async def edit_form(self, request: Request) -> Response:
        visitor = await signed_in(request)
        business = await business_of(request, visitor)
        api = api_for(request, visitor, business)
        item = await self._item(api, business, request.path_params["id"])
        values = self.to_values(item)
        values["photo_description"] = (item.get("media") or {}).get("description") or ""
        return await self._form(request, visitor, business, item=item, values=values)

    async def _photo(
        self, api: Api, business: Business, form: FormData, body: dict[str, Any]
    ) -> tuple[dict[str, str], str | None]:
        """Put the photo into ``body`` (a new upload, one kept from a refused try, or
        "remove"); the values to keep and the sentence if the upload failed."""
        kept: dict[str, str] = {}
        if forms.ticked(form, "photo.remove"):
            body["media_id"] = None
        if previous := forms.text(form, "photo.kept"):
            body["media_id"] = kept["photo.kept"] = previous
        upload = chosen(form, "photo")
        if upload is None:
            return kept, None
        media_id, problem = await upload_photo(
            api, business, upload, forms.text(form, "photo_description")
        )
        if media_id is None:
            return kept, problem or "This photo was not accepted."
        body["media_id"] = kept["photo.kept"] = media_id
        return kept, None

    async def _describe(
        self, api: Api, business: Business, form: FormData, item: Mapping[str, Any]
    ) -> bool:
        """Save a changed description of the photo it keeps (``PATCH …/media/{id}``)."""
        media = item.get("media")
        if not media or chosen(form, "photo") or forms.ticked(form, "photo.remove"):
            return False
        description = forms.text(form, "photo_description")
        if description == (media.get("description") or ""):
            return False
        answer = await api.patch(
            f"{api_path(business)}/media/{media['id']}", {"description": description}
        )
        return answer.ok

    async def _refused(
        self,
        request: Request,
        visitor: Visitor,
        business: Business,
        item: Mapping[str, Any] | None,
        values: dict[str, str],
        errors: Mapping[str, str],
        answer: ApiAnswer,
    ) -> Response:
        """The form again after the API refused it: its sentences by the fields, or its
        problem on top when no field is named."""
        return await self._form(
            request,
            visitor,
            business,
            item=item,
            values=values,
            errors=errors,
            problem="" if errors else problem_words(answer),
            status=answer.status if answer.status >= 400 else 422,
        )

    async def create(self, request: Request) -> Response:
        visitor = await signed_in(request)
        business = await business_of(request, visitor)
        form = await read_form(request, visitor)
        api = api_for(request, visitor, business)
        converted = self.to_body(form)
        body = dict(converted.body)
        kept, photo_problem = await self._photo(api, business, form, body)
        values = {**forms.posted_values(form, ("",)), **kept}
        if photo_problem:
            return await self._form(
                request,
                visitor,
                business,
                item=None,
                values=values,
                errors={"photo": photo_problem},
                status=422,
            )
        body = {k: v for k, v in body.items() if v is not None}
        answer = await api.post(self.api_list(business), body)
        if answer.ok:
            return see_other(
                request,
                self.app_path(business),
                f"Published: it is on your profile and your followers got a post about "
                f"“{body['title']}”.",
            )
        return await self._refused(
            request,
            visitor,
            business,
            None,
            values,
            converted.errors(answer.raw_field_errors),
            answer,
        )

    async def save(self, request: Request) -> Response:
        visitor = await signed_in(request)
        business = await business_of(request, visitor)
        form = await read_form(request, visitor)
        api = api_for(request, visitor, business)
        item = await self._item(api, business, request.path_params["id"])
        converted = self.to_body(form)
        body = changes(converted.body, self.to_body(self.to_values(item)).body)
        kept, photo_problem = await self._photo(api, business, form, body)
        values = {**forms.posted_values(form, ("",)), **kept}
        if photo_problem:
            return await self._form(
                request,
                visitor,
                business,
                item=item,
                values=values,
                errors={"photo": photo_problem},
                status=422,
            )
        described = await self._describe(api, business, form, item)
        if not body:
            words = "Photo description saved." if described else "Nothing changed."
            return see_other(request, self.app_path(business), words)
        answer = await api.patch(f"{self.api_list(business)}/{item['id']}", body)
        if answer.ok:
            return see_other(
                request,
                self.app_path(business),
                "Saved: its page and the post your followers got are updated.",
            )
        return await self._refused(
            request,
            visitor,
            business,
            item,
            values,
            converted.errors(answer.raw_field_errors),
            answer,
        )

    async def withdraw(self, request: Request) -> Response:
        visitor = await signed_in(request)
        business = await business_of(request, visitor)
        await read_form(request, visitor)
        api = api_for(request, visitor, business)
        answer = await api.delete(f"{self.api_list(business)}/{request.path_params['id']}")
        if answer.status == 404:
            raise_not_found(self.name)
        if not answer.ok:
            return see_other(request, self.app_path(business), problem_words(answer))
        return see_other(
            request,
            self.app_path(business),
            f"Withdrawn: the {self.name} left your profile and its post was deleted.",
        )


def raise_not_found(name: str) -> NoReturn:
    raise NotFound(f"There is no such {name} here.")


OFFERS = Listing(
    name="offer",
    plural="offers",
    flag="current",
    now_heading="Running now",
    to_body=offer_body,
    to_values=offer_values,
)
EVENTS = Listing(
    name="event",
    plural="events",
    flag="upcoming",
    now_heading="Coming up",
    to_body=event_body,
    to_values=event_values,
)
routes = [*OFFERS.routes(), *EVENTS.routes()]
