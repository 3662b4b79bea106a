"""NodeInfo 2.0 and 2.1: what software this is and how big, for crawlers and statistics.

Mastodon never reads remote NodeInfo; fediverse crawlers and directories do (interop W8).
Users are the live businesses; as businesses have no sign-in, every live business counts as
active this month and this half-year.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town import __version__
from fedi_town.errors import NotFound
from fedi_town.protocol.urls import Urls
from fedi_town.read.cache import NODEINFO, remember
from fedi_town.read.webfinger import discovery_problem, discovery_response
from fedi_town.services import Services
from fedi_town.settings import Settings
from fedi_town.store import reads

SOFTWARE_NAME = "fedi-town"
VERSIONS = ("2.0", "2.1")


def schema_rel(version: str) -> str:
    return f"http://nodeinfo.diaspora.software/ns/schema/{version}"


def discovery_document(urls: Urls) -> dict[str, Any]:
    """``/.well-known/nodeinfo``: where each schema version is served."""
    return {"links": [{"rel": schema_rel(v), "href": urls.nodeinfo(v)} for v in VERSIONS]}


def nodeinfo_document(version: str, settings: Settings, users: int, posts: int) -> dict[str, Any]:
    """A NodeInfo document of ``version``.

    2.1's optional ``software.repository`` and ``homepage`` are left out until the project
    has a public home: a made-up URL would send crawlers' readers nowhere.
    """
    software: dict[str, Any] = {"name": SOFTWARE_NAME, "version": __version__}
    return {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": False,
        "usage": {
            "users": {"total": users, "activeMonth": users, "activeHalfyear": users},
            "localPosts": posts,
        },
        "metadata": {
            "nodeName": settings.instance_name,
            "nodeDescription": settings.instance_description,
        },
    }


async def discovery(request: Request) -> Response:
    services: Services = request.app.state.services
    response = discovery_response(discovery_document(services.urls), "application/json")
    remember(request, response, NODEINFO, guarded=False)
    return response


async def nodeinfo(request: Request) -> Response:
    """``/nodeinfo/2.0`` and ``/nodeinfo/2.1``."""
    services: Services = request.app.state.services
    version = str(request.path_params["version"])
    if version not in VERSIONS:
        return discovery_problem(NotFound(f"NodeInfo {version} is not served here"))
    users = await reads.count_live_businesses(services.store)
    posts = await reads.count_local_posts(services.store)
    document = nodeinfo_document(version, services.settings, users, posts)
    media_type = f'application/json; profile="{schema_rel(version)}#"'
    response = discovery_response(document, media_type)
    remember(request, response, NODEINFO, guarded=False)
    return response


routes = [
    Route("/.well-known/nodeinfo", discovery, methods=["GET"]),
    Route("/nodeinfo/{version}", nodeinfo, methods=["GET"]),
]
