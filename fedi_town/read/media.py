"""Uploaded media at ``/media/{path}`` and the stylesheet at ``/static/``.

Only files recorded in the ``media`` table are served, with the media type stored at upload
(never guessed from the name). A changed image gets a new path, so files are cached for a
year (Mastodon never refetches a URL it has seen either, interop §2).

Documents always name ``/media/{path}`` on the instance, whichever store keeps the bytes
(media/storage.py), so a move between stores changes no URL a peer holds:

- local folder: sent as a file (``Range``, ``ETag``, ``Last-Modified`` as Starlette does),
  only from inside ``FEDI_TOWN_MEDIA_DIR``: no ``..``, no absolute path, no symlink out;
- a bucket: streamed from it through this process, or, with ``FEDI_TOWN_S3_PUBLIC_URL``,
  a 302 to the bucket's (or its CDN's) public URL of the object, so the bytes never pass
  here. A bucket that cannot be reached answers 503 (a problem document).
"""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from fedi_town.errors import NotFound
from fedi_town.media.storage import LocalMediaStore, safe_key
from fedi_town.services import Services
from fedi_town.store import reads

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
    found = await store.stream(relative)
    if found is None:
        raise NotFound("no such file")
    headers = {**MEDIA_HEADERS, "Content-Length": str(found.size)}
    return StreamingResponse(found.chunks, media_type=media_type, headers=headers)


def static_files() -> BaseRoute:
    """``/static/``: the stylesheet shipped inside the package."""
    return Mount("/static", app=StaticFiles(packages=[("fedi_town", "static")]), name="static")


routes: list[BaseRoute] = [Route("/media/{path:path}", media_file, methods=["GET"])]
