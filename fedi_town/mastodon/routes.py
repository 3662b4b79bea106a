"""Every route of the Mastodon client API, in one list for ``app.all_routes``
(docs/mastodon-api.md lists them, and what is not served yet)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from fedi_town.mastodon import (
    bookmarks,
    conversations,
    featured,
    history,
    instance,
    local_timelines,
    markers,
    media,
    mutes,
    notification_policy,
    notifications,
    oauth,
    polls,
    profile,
    push,
    reacted_by,
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
    *featured.routes,
    *markers.routes,
    *instance.routes,
    *media.routes,
    *threads.routes,
    *reactions.routes,
    *statuses.routes,
    *polls.routes,
    *scheduled.routes,
    *notification_policy.routes,
    *notifications.routes,
    *conversations.routes,
    *local_timelines.routes,
    *mutes.routes,
    *bookmarks.routes,
    *history.routes,
    *reacted_by.routes,
    *streaming.routes,
    *push.routes,
]
