"""Every route of the read side, collected for ``app.all_routes``.

Discovery (WebFinger, host-meta, NodeInfo), ActivityPub documents (actors, collections,
Notes: all content-negotiated through ``read.negotiate.serve_document``), HTML pages, the
remote-follow form, media and static files.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from fedi_town.read import (
    actors,
    collections,
    listings,
    media,
    nodeinfo,
    pages,
    posts,
    remote_follow,
    webfinger,
)

routes: list[BaseRoute] = [
    *webfinger.routes,
    *nodeinfo.routes,
    *actors.routes,
    *collections.routes,
    *posts.routes,
    *listings.routes,
    *remote_follow.routes,
    *pages.routes,
    *media.routes,
    media.static_files(),
]
