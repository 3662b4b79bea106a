"""Uploading photos from a Mastodon app, through the admin API's own image handling
(``api.media``: size caps, sniffing, re-encoding, metadata stripped).

    POST /api/v2/media (and /api/v1/media)   multipart: file, description   write:media
    GET  /api/v1/media/{id}                                                  write:media
    PUT  /api/v1/media/{id}                  description                     write:media

Images are processed before the answer, so the upload answers 200 with its URL at once
(Mastodon answers 202 while a video is still processing; we take no video).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api.media import read_upload, save_image
from fedi_town.errors import NotFound, Unprocessable
from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import media_attachment
from fedi_town.protocol.ids import path_id
from fedi_town.services import Services
from fedi_town.store import media as media_store
from fedi_town.store.effects import BusinessChanged

MAX_DESCRIPTION = 1500


def _description(value: str) -> str:
    if len(value) > MAX_DESCRIPTION:
        raise Unprocessable(
            f"Validation failed: Description is too long (at most {MAX_DESCRIPTION})"
        )
    if "\x00" in value:
        raise Unprocessable("Validation failed: Description holds NUL")
    return value


@endpoint("write:media")
async def upload(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    data, fields = await read_upload(request)
    description = _description(fields.get("description", ""))
    media = await save_image(services, business, data, description)
    return json(media_attachment(services, media))


async def _media(request: Request, grant: Grant | None) -> tuple[Services, media_store.Media]:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    media_id = path_id(str(request.path_params["id"]), "media")
    media = await media_store.by_id(services.store, business.id, media_id)
    if media is None:
        raise NotFound("Record not found")
    return services, media


@endpoint("write:media")
async def get_one(request: Request, grant: Grant | None) -> Response:
    services, media = await _media(request, grant)
    return json(media_attachment(services, media))


@endpoint("write:media")
async def update(request: Request, grant: Grant | None) -> Response:
    services, media = await _media(request, grant)
    values = await params.read(request, services.settings.max_body_bytes)
    if "description" in values:
        description = _description(params.text(values, "description")).strip()
        await media_store.set_description(services.store, media.id, description)
        assert grant is not None and grant.business is not None
        services.store.after_commit(BusinessChanged(grant.business.username))
        changed = await media_store.by_id(services.store, media.business_id, media.id)
        assert changed is not None
        media = changed
    return json(media_attachment(services, media))


routes = [
    Route("/api/v2/media", upload, methods=["POST"]),
    Route("/api/v1/media", upload, methods=["POST"]),
    Route("/api/v1/media/{id}", get_one, methods=["GET"]),
    Route("/api/v1/media/{id}", update, methods=["PUT"]),
]
