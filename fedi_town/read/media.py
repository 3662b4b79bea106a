"""Uploaded media at ``/media/{path}`` and the stylesheet at ``/static/``.

Only files recorded in the ``media`` table are served, with the media type stored at upload
(never guessed from the name), and only from inside ``settings.media_dir``: no ``..``, no
absolute paths, no symlink escaping the directory. A changed image gets a new path, so files
are cached for a year (Mastodon never refetches a URL it has seen either, interop §2).
"""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from fedi_town.errors import NotFound
from fedi_town.services import Services
from fedi_town.store import reads

MEDIA_HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Access-Control-Allow-Origin": "*",
}


def safe_relative_path(path: str) -> bool:
    """True for a plain relative path: no ``..``/``.``/empty segment, no backslash or NUL."""
    if not path or path.startswith("/") or "\\" in path or "\x00" in path:
        return False
    return all(part not in {"", ".", ".."} for part in path.split("/"))


def _inside(root: Path, relative: str) -> Path | None:
    """The file ``relative`` under ``root``, if it exists and really is inside it."""
    base = root.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target


async def media_file(request: Request) -> Response:
    """``/media/{path}``: an uploaded file, or 404."""
    services: Services = request.app.state.services
    relative = str(request.path_params["path"])
    if not safe_relative_path(relative):
        raise NotFound("no such file")
    media_type = await reads.media_type_of_path(services.store, relative)
    if media_type is None:
        raise NotFound("no such file")
    target = await anyio.to_thread.run_sync(_inside, services.settings.media_dir, relative)
    if target is None:
        raise NotFound("no such file")
    return FileResponse(target, media_type=media_type, headers=MEDIA_HEADERS)


def static_files() -> BaseRoute:
    """``/static/``: the stylesheet shipped inside the package."""
    return Mount("/static", app=StaticFiles(packages=[("fedi_town", "static")]), name="static")


routes: list[BaseRoute] = [Route("/media/{path:path}", media_file, methods=["GET"])]
