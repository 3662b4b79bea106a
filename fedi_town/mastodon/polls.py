"""Polls through the Mastodon client API: made with a status, read, voted in.

    POST /api/v1/statuses with poll[...]     write:statuses  (``poll_data``, from statuses.py)
    GET  /api/v1/polls/{id}                  read:statuses   a poll of a business here
    POST /api/v1/polls/{id}/votes            write:statuses  ``choices[]``: another business's
                                                             poll here

A poll's id is its post's. Its options, counts and close are ``store.polls``; the post goes
out as a ``Question`` (``protocol.documents``), votes from elsewhere come in as notes
(``inbound/votes.py``) and the new counts go out batched (``outbound/polls.py``). A business
cannot vote in its own poll (Mastodon's apps show it its results). Polls of posts
elsewhere are shown on their statuses but not voted in from here.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import NotFound, Unprocessable
from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import poll_entity
from fedi_town.protocol.ids import path_id
from fedi_town.services import Services
from fedi_town.store import businesses, polls
from fedi_town.store import posts as post_store
from fedi_town.store.db import new_id
from fedi_town.store.polls import Poll

PUBLIC = ("public", "unlisted")


def poll_data(values: dict[str, Any]) -> dict[str, Any] | None:
    """The admin API's ``poll`` for a status's ``poll[...]`` parameters (a form's
    ``poll[options][]``, or a JSON ``poll`` object); None without a poll. Its limits are
    the admin API's schema's (``schemas/post-create.schema.json``)."""
    given = values.get("poll")
    if isinstance(given, dict):
        raw: dict[str, Any] = dict(given)
    elif given in (None, "", {}):
        raw = {
            key[len("poll[") : -1]: value
            for key, value in values.items()
            if key.startswith("poll[") and key.endswith("]")
        }
    else:
        raise Unprocessable("Validation failed: poll must be an object")
    if not raw:
        return None
    options = params.strings(raw, "options")
    expires = params.text(raw, "expires_in")
    if not expires.isdigit() or len(expires) > 9:
        raise Unprocessable("Validation failed: Poll expires_in must be a number of seconds")
    data: dict[str, Any] = {"options": options, "expires_in": int(expires)}
    for name in ("multiple", "hide_totals"):
        chosen = params.flag(raw, name)
        if chosen is not None:
            data[name] = chosen
    return data


async def _poll(request: Request, grant: Grant | None) -> tuple[Services, Poll, bool]:
    """The poll ``{id}`` names, if the token's business may see it; and whether it is the
    business's own."""
    services: Services = request.app.state.services
    post_id = path_id(str(request.path_params["id"]), "poll")
    post = await post_store.by_id_any(services.store, post_id)
    poll = await polls.of_post(services.store, post_id)
    if post is None or poll is None or not post.is_published or post.deleted_at is not None:
        raise NotFound("Record not found")
    own = grant is not None and grant.business is not None and grant.business.id == post.business_id
    owner = await businesses.by_id(services.store, post.business_id)
    if owner is None or owner.deleted_at is not None or (post.visibility not in PUBLIC and not own):
        raise NotFound("Record not found")
    return services, poll, own


async def _entity(services: Services, grant: Grant | None, poll: Poll, own: bool) -> Any:
    chosen: list[int] = []
    if grant is not None and grant.business is not None and not own:
        voter = services.urls.actor(grant.business.username)
        chosen = await polls.voted(services.store, poll.post_id, voter)
    return poll_entity(poll, services.now_ms(), own=own, chosen=chosen)


@endpoint("read:statuses", token=False)
async def get_poll(request: Request, grant: Grant | None) -> Response:
    services, poll, own = await _poll(request, grant)
    return json(await _entity(services, grant, poll, own))


@endpoint("write:statuses")
async def vote(request: Request, grant: Grant | None) -> Response:
    """Vote, as the business, in another business's poll here (``choices[]``: option
    indexes); counted like a vote from elsewhere."""
    assert grant is not None
    business = grant.account()
    services, poll, own = await _poll(request, grant)
    values = await params.read(request, services.settings.max_body_bytes)
    raw = params.strings(values, "choices")
    if own:
        raise Unprocessable("Validation failed: You cannot vote in your own poll")
    if not raw or not all(c.isdigit() and int(c) < len(poll.options) for c in raw):
        raise Unprocessable("Validation failed: Choices are not included in the list")
    choices = sorted({int(c) for c in raw})
    now = services.now_ms()
    if poll.closed(now):
        raise Unprocessable("Validation failed: The poll has already ended")
    if len(choices) > 1 and not poll.multiple:
        raise Unprocessable("Validation failed: Choices must be one")
    voter = services.urls.actor(business.username)
    async with services.store.transaction():
        if await polls.voted(services.store, poll.post_id, voter):
            raise Unprocessable("Validation failed: You have already voted on this poll")
        for choice in choices:
            await polls.add_vote(
                services.store,
                post_id=poll.post_id,
                voter_uri=voter,
                choice=choice,
                vote_uri=f"{voter}#votes/{new_id(now)}",
                now=now,
            )
    fresh = await polls.of_post(services.store, poll.post_id)
    assert fresh is not None
    return json(await _entity(services, grant, fresh, own))


routes = [
    Route("/api/v1/polls/{id}", get_poll, methods=["GET"]),
    Route("/api/v1/polls/{id}/votes", vote, methods=["POST"]),
]
