"""Every route of the owner's web app, in one list for ``app.all_routes``."""

from __future__ import annotations

from starlette.routing import BaseRoute

from fedi_town.webapp import (
    account,
    admin,
    apps,
    authorize,
    business,
    compose,
    followers,
    following,
    home,
    inbox,
    listings,
    moderation,
    passkeys,
    people,
    posts,
    quotes,
    reactions,
    relations,
    signin,
    timeline,
)

routes: list[BaseRoute] = [
    *signin.routes,
    *passkeys.routes,
    *authorize.routes,
    *account.routes,
    *admin.routes,
    # Pages under /app/{username}/... come after the fixed /app/... paths.
    *home.routes,
    *compose.routes,
    *posts.routes,
    *people.routes,
    *inbox.routes,
    *reactions.routes,
    *timeline.routes,
    *relations.routes,
    *followers.routes,
    *quotes.routes,
    *following.routes,
    *moderation.routes,
    *business.routes,
    *listings.routes,
    *apps.routes,
]
