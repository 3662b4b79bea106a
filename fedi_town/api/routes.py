"""Every route of the owner and admin API, in one list for ``app.all_routes``."""

from __future__ import annotations

from starlette.routing import BaseRoute

from fedi_town.api import (
    admin,
    apps,
    businesses,
    directory,
    events,
    following,
    media,
    moves,
    offers,
    owner,
    people,
    post_activity,
    posts,
    quote_requests,
    reactions,
    relations,
    timeline,
)

routes: list[BaseRoute] = [
    *businesses.routes,
    *posts.routes,
    *post_activity.routes,
    *quote_requests.routes,
    *offers.routes,
    *events.routes,
    *media.routes,
    *owner.routes,
    *following.routes,
    *reactions.routes,
    *timeline.routes,
    *relations.routes,
    *admin.routes,
    *directory.routes,
    *people.routes,
    *moves.routes,
    *apps.routes,
]
