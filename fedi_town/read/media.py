"""Uploaded media at ``/media/{path}`` and the stylesheet at ``/static/``.

Only files recorded in the ``media`` table are served, with the media type stored at upload
(never guessed from the name). A changed image gets a new path, so files are cached for a
year (Mastodon never refetches a URL it has seen either, interop §2).

Received custom emoji are served from their cache at ``/proxy/emoji/{digest}`` (the
owner's pages show them from here, never from the sender's server).

Documents always name ``/media/{path}`` on the instance, whichever store keeps the bytes
(media/storage.py), so a move between stores changes no URL a peer holds:

- local folder: sent as a file (``Range``, ``ETag``, ``Last-Modified`` as Starlette does),
  only from inside ``FEDI_TOWN_MEDIA_DIR``: no ``..``, no absolute path, no symlink out;
- a bucket: streamed from it through this process (one ``Range`` honoured, as for files),
  or, with ``FEDI_TOWN_S3_PUBLIC_URL``,
  a 302 to the bucket's (or its CDN's) public URL of the object, so the bytes never pass
  here. A bucket that cannot be reached answers 503 (a problem document).
"""

from __future__ import annotations

import re

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from fedi_town.errors import NotFound
from fedi_town.media.storage import LocalMediaStore, MediaStore, safe_key
from fedi_town.services import Services
from fedi_town.store import emojis, reads

MEDIA_HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Access-Control-Allow-Origin": "*",
}
#: the redirect to a bucket's public URL: kept a day (the object's URL could move, with
#: ``FEDI_TOWN_S3_PUBLIC_URL``), the object itself a year
REDIRECT_HEADERS = {"Cache-Control": "public, max-age=86400", "Access-Control-Allow-Origin": "*"}


async def media_file(request: Request) -> Response:
    """``/media/{path}``: an uploaded file, or 404."""
    services: Services = request.app.state.services
    relative = str(request.path_params["path"])
    if not safe_key(relative):
        raise NotFound("no such file")
    media_type = await reads.media_type_of_path(services.store, relative)
    if media_type is None:
        raise NotFound("no such file")
    store = services.media
    if isinstance(store, LocalMediaStore):
        target = await anyio.to_thread.run_sync(store.file_path, relative)
        if target is None:
            raise NotFound("no such file")
        return FileResponse(target, media_type=media_type, headers=MEDIA_HEADERS)
    if public := services.settings.s3_public_url:
        return RedirectResponse(f"{public}/{relative}", 302, headers=REDIRECT_HEADERS)
    return await _streamed(store, relative, media_type, request.headers.get("range"))


async def _streamed(store: MediaStore, key: str, media_type: str, asked: str | None) -> Response:
    """The object from the bucket, through this process: whole, or the one byte range a
    ``Range`` header asks for (206; 416 outside the object), as the folder's files are."""
    headers = {**MEDIA_HEADERS, "Accept-Ranges": "bytes"}
    part = None
    if asked is not None and (wanted := one_range(asked)) is not None:
        size = await store.size(key)
        if size is None:
            raise NotFound("no such file")
        part = within(wanted, size)
        if part is None:
            return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
        headers["Content-Range"] = f"bytes {part[0]}-{part[1] - 1}/{size}"
    found = await store.stream(key, part)
    if found is None:
        raise NotFound("no such file")
    headers["Content-Length"] = str(found.size)
    status = 206 if part is not None else 200
    return StreamingResponse(found.chunks, status, media_type=media_type, headers=headers)


def one_range(header: str) -> tuple[int | None, int | None] | None:
    """``bytes=a-b``, ``bytes=a-`` or ``bytes=-n`` as (a, b), (a, None) or (None, n); None
    for anything else (several ranges, another unit), which is answered whole."""
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()):
        return None
    if (first and not first.isdigit()) or (last and not last.isdigit()):
        return None
    return (int(first) if first else None, int(last) if last else None)


def within(wanted: tuple[int | None, int | None], size: int) -> tuple[int, int] | None:
    """The asked range as [start, end) inside an object of ``size`` bytes, or None when
    it does not overlap it (416)."""
    first, last = wanted
    if first is None:  # the last ``last`` bytes
        if not last or size == 0:
            return None
        return (max(0, size - last), size)
    if first >= size or (last is not None and last < first):
        return None
    return (first, size if last is None else min(last + 1, size))


async def emoji_file(request: Request) -> Response:
    """``/proxy/emoji/{digest}``: a received custom emoji from the cache (inbound/emoji.py),
    never fetched here: an icon not kept (refused, or not yet fetched) is a 404."""
    services: Services = request.app.state.services
    digest = str(request.path_params["digest"])
    if not _DIGEST.match(digest):
        raise NotFound("no such emoji")
    emoji = await emojis.by_digest(services.store, digest)
    if emoji is None or emoji.state != "ok" or not emoji.media_key or not emoji.media_type:
        raise NotFound("no such emoji")
    data = await services.media.get(emoji.media_key)
    if data is None:
        raise NotFound("no such emoji")
    return Response(data, media_type=emoji.media_type, headers=MEDIA_HEADERS)


def static_files() -> BaseRoute:
    """``/static/``: the stylesheet shipped inside the package."""
    return Mount("/static", app=StaticFiles(packages=[("fedi_town", "static")]), name="static")


_DIGEST = re.compile(r"[0-9a-f]{64}\Z")

routes: list[BaseRoute] = [
    Route("/media/{path:path}", media_file, methods=["GET"]),
    Route("/proxy/emoji/{digest}", emoji_file, methods=["GET"]),
]
