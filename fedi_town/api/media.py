"""Admin API for media (owner or admin token), described in schemas/admin-api.openapi.yaml:

    POST   /api/v1/businesses/{username}/media        multipart: file, description (alt text)
    GET    /api/v1/businesses/{username}/media/{id}
    PATCH  /api/v1/businesses/{username}/media/{id}   {description}
    DELETE /api/v1/businesses/{username}/media/{id}   only while no post, avatar or header uses it

An upload is read with a hard cap (413 past ``MAX_FILE_BYTES``), checked and re-encoded by
``fedi_town.media.images`` in a thread (415 for anything but JPEG/PNG/WebP/GIF/HEIC, judged
by its bytes, a HEIC being kept as JPEG; 422 for a decompression bomb or broken pixels),
stored under a new random name in the media store (a folder or a bucket; 503 when it
fails, with nothing recorded), and only then recorded. The form fields other than the file
are validated against ``schemas/media-create.schema.json``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator

import anyio
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api.auth import require_business
from fedi_town.api.posts import media_view
from fedi_town.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMedia,
)
from fedi_town.media import files
from fedi_town.media.storage import MediaUnavailable
from fedi_town.protocol.ids import path_id
from fedi_town.schemas import validate
from fedi_town.services import Services
from fedi_town.store import media as media_store
from fedi_town.store.businesses import Business
from fedi_town.store.db import new_id
from fedi_town.store.effects import BusinessChanged
from fedi_town.web import json_response, read_json

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 10 * 1024 * 1024
#: The whole multipart body: the file plus a little for boundaries and the description.
MAX_UPLOAD_BYTES = MAX_FILE_BYTES + 64 * 1024
MAX_FIELD_BYTES = 8 * 1024


async def _bounded(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"uploads are limited to {MAX_FILE_BYTES // (1024 * 1024)} MB")
        yield chunk


async def read_upload(request: Request) -> tuple[bytes, dict[str, str]]:
    """The file's bytes and the other form fields, with every size limit enforced."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise UnsupportedMedia("send the upload as multipart/form-data with a 'file' part")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"uploads are limited to {MAX_FILE_BYTES // (1024 * 1024)} MB")
    parser = MultiPartParser(
        request.headers,
        _bounded(request, MAX_UPLOAD_BYTES),
        max_files=1,
        max_fields=4,
        max_part_size=MAX_FIELD_BYTES,
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise BadRequest(f"malformed multipart body: {exc.message}") from None
    try:
        fields: dict[str, str] = {}
        upload: UploadFile | None = None
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if name != "file":
                    raise Unprocessable(f"unexpected file part {name!r}; send it as 'file'")
                upload = value
            elif "\x00" in value:  # PostgreSQL text cannot hold NUL; JSON bodies refuse it too
                raise Unprocessable(
                    f"the form field {name!r} holds NUL",
                    errors=[{"pointer": f"/{name}", "message": "holds NUL"}],
                )
            else:
                fields[name] = value
        if upload is None:
            raise Unprocessable(
                "the upload has no 'file' part",
                errors=[{"pointer": "/file", "message": "required"}],
            )
        data = await upload.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise PayloadTooLarge(f"uploads are limited to {MAX_FILE_BYTES // (1024 * 1024)} MB")
    finally:
        await form.close()
    return data, fields


async def upload(request: Request) -> Response:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    data, fields = await read_upload(request)
    validate("media-create", fields)
    media = await save_image(services, business, data, fields.get("description", ""))
    location = f"/api/v1/businesses/{business.username}/media/{media.id}"
    return json_response(media_view(services, media), 201, headers={"Location": location})


async def save_image(
    services: Services, business: Business, data: bytes, description: str
) -> media_store.Media:
    """Check, re-encode, store and record an uploaded image of ``business`` (the admin API's
    and the Mastodon client API's uploads alike)."""
    if not data:
        raise Unprocessable("the file is empty", errors=[{"pointer": "/file", "message": "empty"}])
    # Pillow is imported with the first upload, not at start: +2.4 MB of idle RSS (measured)
    # against a target of 80 MB (docs/performance.md: 76 MB).
    from fedi_town.media import images  # deferred: Pillow, +2.4 MB idle RSS; see above

    try:
        processed = await anyio.to_thread.run_sync(images.process, data)
    except images.NotAnImage as exc:
        raise UnsupportedMedia(str(exc)) from None
    except images.ImageRejected as exc:
        raise Unprocessable(str(exc), errors=[{"pointer": "/file", "message": str(exc)}]) from None
    # The object first, then the row: a store that fails answers 503 with nothing recorded,
    # and a row that fails takes its object away again.
    name = files.new_name(processed.suffix)
    await services.media.put(name, processed.data, processed.media_type)
    now = services.now_ms()
    media_id = new_id(now)
    try:
        await media_store.insert(
            services.store,
            media_id=media_id,
            business_id=business.id,
            path=name,
            media_type=processed.media_type,
            size_bytes=len(processed.data),
            width=processed.width,
            height=processed.height,
            blurhash=processed.blurhash,
            description=description.strip(),
            now=now,
        )
    except BaseException:
        with anyio.CancelScope(shield=True):
            await _forget(services, name)
        raise
    media = await media_store.by_id(services.store, business.id, media_id)
    assert media is not None
    log.info("business %s uploaded media %d (%s)", business.username, media_id, media.media_type)
    return media


async def _business_media(request: Request) -> tuple[Services, media_store.Media]:
    services, _, media = await _business_and_media(request)
    return services, media


async def _business_and_media(
    request: Request,
) -> tuple[Services, Business, media_store.Media]:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    media_id = path_id(request.path_params["id"], "media")
    media = await media_store.by_id(services.store, business.id, media_id)
    if media is None:
        raise NotFound("no such media")
    return services, business, media


async def get_one(request: Request) -> Response:
    services, media = await _business_media(request)
    return json_response(media_view(services, media))


async def patch(request: Request) -> Response:
    services, business, media = await _business_and_media(request)
    data = await read_json(request, services.settings.max_body_bytes)
    validate("media-update", data)
    await media_store.set_description(services.store, media.id, data["description"].strip())
    # Notes showing this image carry its description: drop their kept answers now.
    services.store.after_commit(BusinessChanged(business.username))
    changed = await media_store.by_id(services.store, media.business_id, media.id)
    assert changed is not None
    return json_response(media_view(services, changed))


async def delete(request: Request) -> Response:
    services, media = await _business_media(request)
    if await media_store.in_use(services.store, media):
        raise Conflict("the media is attached to a post or used as avatar or header")
    # The object first: a store that cannot delete answers 503 and the media stays whole;
    # once it is gone, the row goes (a retry after a failed row finds no object, fine).
    await services.media.delete(media.path)
    await media_store.delete(services.store, media.id)
    return Response(status_code=204)


async def _forget(services: Services, name: str) -> None:
    """Remove an object whose row could not be written (logged if that fails too)."""
    try:
        await services.media.delete(name)
    except MediaUnavailable:
        log.warning("media %s stays in %s without a row", name, services.media.describe())


_MEDIA = "/api/v1/businesses/{username}/media/{id}"

routes = [
    Route("/api/v1/businesses/{username}/media", upload, methods=["POST"]),
    Route(_MEDIA, get_one, methods=["GET"]),
    Route(_MEDIA, patch, methods=["PATCH"]),
    Route(_MEDIA, delete, methods=["DELETE"]),
]
