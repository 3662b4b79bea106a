"""The admin routes of something a post announces (an offer, an event), written once:

POST   /api/v1/businesses/{username}/{plural}          write it and its post (201)
GET    /api/v1/businesses/{username}/{plural}          newest first, ``?max_id=&limit=``
GET    /api/v1/businesses/{username}/{plural}/{id}
PATCH  /api/v1/businesses/{username}/{plural}/{id}     change it; its post is edited
DELETE /api/v1/businesses/{username}/{plural}/{id}     withdraw it; its post is deleted (204)

A ``Kind`` says what differs (its name, how a body becomes its columns, the Markdown of its
post, its JSON, its queries in ``store/``); the flow, the status codes and the transactions
are the same for both. The post itself is ``api.announcements``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api import announcements as ann
from fedi_town.api.auth import require_business
from fedi_town.errors import NotFound
from fedi_town.protocol.ids import path_id, query_id, query_limit
from fedi_town.schemas import validate
from fedi_town.services import Services
from fedi_town.store.businesses import Business
from fedi_town.store.db import Store, new_id
from fedi_town.web import json_response, read_json

DEFAULT_LIMIT = 20
MAX_LIMIT = 40


class Announced(Protocol):
    """A stored offer or event, as far as the routes care."""

    @property
    def id(self) -> int: ...
    @property
    def media_id(self) -> int | None: ...
    @property
    def post_id(self) -> int | None: ...


T = TypeVar("T", bound=Announced)
T_co = TypeVar("T_co", bound=Announced, covariant=True)


class Page(Protocol[T_co]):
    """``store.<kind>.page``: the owner's list, newest first."""

    def __call__(
        self, store: Store, business_id: int, *, max_id: int | None, limit: int
    ) -> Awaitable[Sequence[T_co]]: ...


def shared_values(
    data: Mapping[str, Any], current: Announced | None, editable: Sequence[str]
) -> dict[str, Any]:
    """What every kind reads the same from a body: the ``editable`` columns of ``current``
    (a change; none for a new one), the title (one line, not empty) and the text (trimmed)."""
    values = {k: getattr(current, k) for k in editable} if current is not None else {}
    if "title" in data:
        values["title"] = " ".join(str(data["title"]).split())
        if not values["title"]:
            raise ann.problem("/title", "title is empty")
    if "text" in data:
        values["text"] = str(data["text"]).strip()
    return values


@dataclass(frozen=True)
class Kind(Generic[T]):
    """What one kind of announced thing says that the routes do not."""

    #: "offer": its schemas (``offer-create``, ``offer-update``), its 404, its log lines
    name: str
    #: "offers": its path under the business
    plural: str
    log: logging.Logger
    #: its columns after a body (all of a new one, or a change of the current one); 422s
    values: Callable[[Services, Business, dict[str, Any], T | None], dict[str, Any]]
    #: the Markdown of its post, given its id and columns
    source: Callable[[Services, Business, int, dict[str, Any]], str]
    #: the admin API's JSON for it
    to_json: Callable[[Services, Business, T], Awaitable[dict[str, Any]]]
    #: ``store.<kind>`` queries: insert(store, id, business_id, values, now) and the rest
    insert: Callable[[Store, int, int, dict[str, Any], int], Awaitable[T]]
    update: Callable[[Store, int, Mapping[str, Any], int], Awaitable[None]]
    mark_deleted: Callable[[Store, int, int], Awaitable[None]]
    by_id: Callable[[Store, int, int], Awaitable[T | None]]
    page: Page[T]

    def routes(self) -> list[Route]:
        base = f"/api/v1/businesses/{{username}}/{self.plural}"
        return [
            Route(base, self.create, methods=["POST"]),
            Route(base, self.list_all, methods=["GET"]),
            Route(base + "/{id}", self.get_one, methods=["GET"]),
            Route(base + "/{id}", self.patch, methods=["PATCH"]),
            Route(base + "/{id}", self.delete, methods=["DELETE"]),
        ]

    async def create(self, request: Request) -> Response:
        services: Services = request.app.state.services
        business = await require_business(request, services, request.path_params["username"])
        data = await read_json(request, services.settings.max_body_bytes)
        validate(f"{self.name}-create", data)
        values = self.values(services, business, data, None)
        media = await ann.check_media(services, business, data.get("media_id"), None)
        now = services.now_ms()
        item_id = new_id(now)
        async with services.store.transaction():
            source = self.source(services, business, item_id, values)
            post = await ann.publish(services, business, source, media)
            values |= {"media_id": media.id if media else None, "post_id": post.id}
            item = await self.insert(services.store, item_id, business.id, values, now)
            await ann.listed(services, business)
        self.log.info(
            "business %s published %s %d (post %d)", business.username, self.name, item_id, post.id
        )
        location = f"/api/v1/businesses/{business.username}/{self.plural}/{item.id}"
        return json_response(
            await self.to_json(services, business, item), 201, headers={"Location": location}
        )

    async def list_all(self, request: Request) -> Response:
        services: Services = request.app.state.services
        business = await require_business(request, services, request.path_params["username"])
        params = request.query_params
        limit = query_limit(params.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
        max_id = query_id(params.get("max_id"), "max_id")
        found = await self.page(services.store, business.id, max_id=max_id, limit=limit)
        items = [await self.to_json(services, business, item) for item in found]
        next_url = None
        if len(found) == limit:
            next_url = (
                f"/api/v1/businesses/{business.username}/{self.plural}"
                f"?max_id={found[-1].id}&limit={limit}"
            )
        return json_response({"items": items, "next": next_url})

    async def _found(self, request: Request) -> tuple[Services, Business, T]:
        services: Services = request.app.state.services
        business = await require_business(request, services, request.path_params["username"])
        item_id = path_id(request.path_params["id"], self.name)
        item = await self.by_id(services.store, business.id, item_id)
        if item is None:
            raise NotFound(f"no such {self.name}")
        return services, business, item

    async def get_one(self, request: Request) -> Response:
        services, business, item = await self._found(request)
        return json_response(await self.to_json(services, business, item))

    async def patch(self, request: Request) -> Response:
        services, business, item = await self._found(request)
        data = await read_json(request, services.settings.max_body_bytes)
        validate(f"{self.name}-update", data)
        values = self.values(services, business, data, item)
        media = await ann.changed_media(services, business, data, item.media_id, item.post_id)
        values["media_id"] = media.id if media else None
        changes = {k: v for k, v in values.items() if getattr(item, k) != v}
        async with services.store.transaction():
            await self.update(services.store, item.id, changes, services.now_ms())
            source = self.source(services, business, item.id, values)
            await ann.republish(services, business, item.post_id, source, media)
        changed = await self.by_id(services.store, business.id, item.id)
        assert changed is not None
        return json_response(await self.to_json(services, business, changed))

    async def delete(self, request: Request) -> Response:
        services, business, item = await self._found(request)
        async with services.store.transaction():
            await self.mark_deleted(services.store, item.id, services.now_ms())
            await ann.withdraw(services, business, item.post_id)
        self.log.info("business %s deleted %s %d", business.username, self.name, item.id)
        return Response(status_code=204)
