"""Every route of the read side, collected for ``app.all_routes``.

Discovery (WebFinger, host-meta, NodeInfo), ActivityPub documents (actors, collections,
Notes: all content-negotiated through ``read.negotiate.serve_document``), HTML pages, the
remote-follow form, the Atom/RSS feeds, the shop-window poster, media and static files;
``/healthz``, ``/readyz`` and ``/metrics`` for whoever runs the instance.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from fedi_town.read import (
    actors,
    boosts,
    collections,
    feeds,
    health,
    listings,
    media,
    metrics,
    nodeinfo,
    pages,
    poster,
    posts,
    remote_follow,
    webfinger,
)

routes: list[BaseRoute] = [
    *health.routes,
    *metrics.routes,
    *webfinger.routes,
    *nodeinfo.routes,
    *actors.routes,
    *collections.routes,
    *boosts.routes,
    *posts.routes,
    *listings.routes,
    *remote_follow.routes,
    *pages.routes,
    *feeds.routes,
    *poster.routes,
    *media.routes,
    media.static_files(),
]
