"""Every route of the Mastodon client API, in one list for ``app.all_routes``
(docs/mastodon-api.md lists them, and what is not served yet)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from fedi_town.mastodon import (
    instance,
    local_timelines,
    markers,
    media,
    notifications,
    oauth,
    profile,
    push,
    reactions,
    relations,
    scheduled,
    search,
    statuses,
    streaming,
    threads,
)

routes: list[BaseRoute] = [
    *oauth.routes,
    *profile.routes,
    *search.routes,
    *relations.routes,
    *markers.routes,
    *instance.routes,
    *media.routes,
    *threads.routes,
    *reactions.routes,
    *statuses.routes,
    *scheduled.routes,
    *notifications.routes,
    *local_timelines.routes,
    *streaming.routes,
    *push.routes,
]
