"""NodeInfo 2.0 and 2.1: what software this is and how big, for crawlers and statistics.

Mastodon never reads remote NodeInfo; fediverse crawlers and directories do (interop W8).
Users are the live businesses; as businesses have no sign-in, every live business counts as
active this month and this half-year.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from importlib import metadata
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


#: ``[project.urls]`` labels (pyproject.toml) that name NodeInfo 2.1's software links.
_LINK_LABELS = {
    "repository": ("repository", "source", "source code", "code"),
    "homepage": ("homepage", "home", "home page", "documentation"),
}


def software_links(project_urls: Iterable[str]) -> dict[str, str]:
    """NodeInfo 2.1's ``repository`` and ``homepage`` from the package's ``Project-URL``
    lines (``"Repository, https://…"``): only URLs the project publishes, none made up."""
    found: dict[str, str] = {}
    for line in project_urls:
        label, _, url = line.partition(",")
        label, url = label.strip().lower(), url.strip()
        if not url.startswith(("https://", "http://")):
            continue
        for key, labels in _LINK_LABELS.items():
            if label in labels:
                found.setdefault(key, url)
    return found


@lru_cache(maxsize=1)
def installed_software_links() -> dict[str, str]:
    """``software_links`` of the installed fedi-town (read once: it cannot change)."""
    try:
        lines = metadata.metadata(SOFTWARE_NAME).get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        lines = []
    return software_links(lines)


def configured_links(settings: Settings) -> dict[str, str]:
    """The software links the operator set (where their running source is published)."""
    found = {"repository": settings.software_repository, "homepage": settings.software_homepage}
    return {k: v for k, v in found.items() if v}


def nodeinfo_document(
    version: str,
    settings: Settings,
    users: int,
    posts: int,
    links: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A NodeInfo document of ``version``.

    2.1 names the software's ``repository`` and ``homepage`` (``links``: by default the
    installed package's ``[project.urls]``, see ``software_links``, and for a key it lacks
    the operator's ``FEDI_TOWN_SOFTWARE_REPOSITORY``/``_HOMEPAGE``); 2.0 has no such keys.
    Neither published nor set, the key is left out: a made-up URL sends readers nowhere.
    """
    software: dict[str, Any] = {"name": SOFTWARE_NAME, "version": __version__}
    if version != "2.0":
        software |= configured_links(settings) | (
            installed_software_links() if links is None else links
        )
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
