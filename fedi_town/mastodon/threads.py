"""A status's thread (``GET /api/v1/statuses/{id}/context``): what it answers, up the
chain, and what answers it, depth first, from the business's posts and the replies and
mentions received (``store/post_lists.py``). Nothing is fetched from elsewhere: a parent
never received ends the ancestors there.

What is shown: the business's own posts whatever their visibility; other posts and notes
only when public or unlisted, or when they reached the business (a mention). Without a
token, only public and unlisted ones.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import NotFound
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import note_status, post_status, remote_account
from fedi_town.mastodon.reactions import mark_for
from fedi_town.protocol.ids import path_id
from fedi_town.services import Services
from fedi_town.store import actors, businesses, post_lists, social
from fedi_town.store import posts as post_store
from fedi_town.store.businesses import Business

PUBLIC = ("public", "unlisted")
MAX_ANCESTORS = 40
MAX_DESCENDANTS = 200


async def _by_uri(
    services: Services, viewer: Business | None, uri: str
) -> tuple[dict[str, Any], str | None] | None:
    """The Status at ``uri`` as ``viewer`` may see it, and the URI it answers; None when
    not stored or not to be shown."""
    store = services.store
    post = await post_store.by_uri(store, uri)
    if post is not None:
        own = viewer is not None and viewer.id == post.business_id
        if not own and post.visibility not in PUBLIC:
            return None
        owner = viewer if own else await businesses.by_id(store, post.business_id)
        if owner is None or owner.deleted_at is not None:
            return None
        return await post_status(services, owner, post), post.in_reply_to_uri
    note = await post_lists.note_by_uri(store, uri)
    if note is None:
        return None
    if note["visibility"] not in PUBLIC:
        reached = viewer is not None and (
            await social.note_for_business(store, int(note["id"]), viewer.id)
        )
        if not reached:
            return None
    author = remote_account(services, actors.actor_from_row(note, "a_"))
    return note_status(services, note, author), note["in_reply_to_uri"]


async def _start(
    services: Services, viewer: Business | None, status_id: int
) -> tuple[dict[str, Any], str, str | None]:
    """The Status the thread is asked for, its URI and what it answers (404 if unseen)."""
    store = services.store
    post = await post_store.by_id_any(store, status_id)
    uri = None
    if post is not None and post.is_published:
        uri = post.uri
    elif viewer is not None:
        note = await social.note_for_business(store, status_id, viewer.id)
        uri = str(note["uri"]) if note is not None else None
    found = await _by_uri(services, viewer, uri) if uri else None
    if found is None or uri is None:
        raise NotFound("Record not found")
    return found[0], uri, found[1]


def _answers(status: dict[str, Any], parent: dict[str, Any]) -> None:
    status["in_reply_to_id"] = parent["id"]
    status["in_reply_to_account_id"] = parent["account"]["id"]


async def context(services: Services, viewer: Business | None, status_id: int) -> dict[str, Any]:
    """Mastodon's Context of a status: ancestors (oldest first) and descendants."""
    start, uri, parent_uri = await _start(services, viewer, status_id)
    ancestors: list[dict[str, Any]] = []
    seen = {uri}
    child = start
    while parent_uri and parent_uri not in seen and len(ancestors) < MAX_ANCESTORS:
        seen.add(parent_uri)
        found = await _by_uri(services, viewer, parent_uri)
        if found is None:
            break
        _answers(child, found[0])
        ancestors.insert(0, found[0])
        child, parent_uri = found[0], found[1]
    descendants: list[dict[str, Any]] = []
    stack: list[tuple[str, dict[str, Any]]] = [(uri, start)]
    while stack and len(descendants) < MAX_DESCENDANTS:
        here, status = stack.pop()
        if here != uri:
            descendants.append(status)
        children = []
        for reply in await post_lists.own_replies_to(services.store, here):
            children.append((reply.published_at or reply.created_at, reply.uri))
        for note in await post_lists.notes_replying_to(services.store, here):
            children.append((int(note["published_at"]), str(note["uri"])))
        found_children = []
        for _when, child_uri in sorted(children):
            if child_uri in seen:
                continue
            seen.add(child_uri)
            found = await _by_uri(services, viewer, child_uri)
            if found is not None:
                _answers(found[0], status)
                found_children.append((child_uri, found[0]))
        stack.extend(reversed(found_children))
    return {"ancestors": ancestors, "descendants": descendants}


@endpoint("read:statuses", token=False)
async def get_context(request: Request, grant: Grant | None) -> Response:
    services: Services = request.app.state.services
    status_id = path_id(str(request.path_params["id"]), "status")
    viewer = grant.business if grant is not None else None
    found = await context(services, viewer, status_id)
    await mark_for(services, grant, [*found["ancestors"], *found["descendants"]])
    return json(found)


routes = [
    Route("/api/v1/statuses/{id}/context", get_context, methods=["GET"]),
]
