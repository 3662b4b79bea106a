"""Polls through the Mastodon client API: made with a status, read, voted in.

    POST /api/v1/statuses with poll[...]     write:statuses  (``poll_data``, from statuses.py)
    GET  /api/v1/polls/{id}                  read:statuses   a poll of a business here
    POST /api/v1/polls/{id}/votes            write:statuses  ``choices[]``: another business's
                                                             poll here, or a poll elsewhere

A poll's id is its post's. Its options, counts and close are ``store.polls``; the post goes
out as a ``Question`` (``protocol.documents``), votes from elsewhere come in as notes
(``inbound/votes.py``) and the new counts go out batched (``outbound/polls.py``). A business
cannot vote in its own poll (Mastodon's apps show it its results). A poll elsewhere (a
received ``Question``, ``remote_notes.poll``) has its note's id; a vote in it goes to its
author as Mastodon sends one (``outbound/polls.py``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import NotFound, Unprocessable
from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import poll_entity, received_poll
from fedi_town.outbound import polls as poll_commands
from fedi_town.protocol.ids import path_id
from fedi_town.services import Services
from fedi_town.store import businesses, polls, post_lists, social
from fedi_town.store import posts as post_store
from fedi_town.store import timeline as timeline_store
from fedi_town.store.db import Row, new_id
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


async def _local(services: Services, grant: Grant | None, poll_id: int) -> tuple[Poll, bool] | None:
    """The poll of a post here, if the token's business may see it, and whether it is the
    business's own; None when ``poll_id`` is no post of ours with a poll."""
    post = await post_store.by_id_any(services.store, poll_id)
    poll = await polls.of_post(services.store, poll_id)
    if post is None or poll is None or not post.is_published or post.deleted_at is not None:
        return None
    own = grant is not None and grant.business is not None and grant.business.id == post.business_id
    owner = await businesses.by_id(services.store, post.business_id)
    if owner is None or owner.deleted_at is not None or (post.visibility not in PUBLIC and not own):
        raise NotFound("Record not found")
    return poll, own


async def _remote(services: Services, grant: Grant | None, note_id: int) -> Row:
    """A remote note with a poll that the token's business may see (one that reached it,
    one on its timeline, or a public one); else 404."""
    note = None
    if grant is not None and grant.business is not None:
        business_id = grant.business.id
        note = await social.note_for_business(services.store, note_id, business_id)
        if note is None:
            note = await timeline_store.note_shown(services.store, business_id, note_id)
    if note is None:
        note = await post_lists.public_note(services.store, note_id)
    if note is None or not note["poll"]:
        raise NotFound("Record not found")
    return note


async def _remote_entity(services: Services, grant: Grant | None, note: Row) -> Any:
    entity = received_poll(note, services.now_ms())
    assert entity is not None
    if grant is not None and grant.business is not None:
        chosen = await polls.given_votes(services.store, grant.business.id, int(note["id"]))
        entity["voted"] = bool(chosen)
        entity["own_votes"] = chosen
    return entity


async def _entity(services: Services, grant: Grant | None, poll: Poll, own: bool) -> Any:
    chosen: list[int] = []
    if grant is not None and grant.business is not None and not own:
        voter = services.urls.actor(grant.business.username)
        chosen = await polls.voted(services.store, poll.post_id, voter)
    return poll_entity(poll, services.now_ms(), own=own, chosen=chosen)


@endpoint("read:statuses", token=False)
async def get_poll(request: Request, grant: Grant | None) -> Response:
    services: Services = request.app.state.services
    poll_id = path_id(str(request.path_params["id"]), "poll")
    local = await _local(services, grant, poll_id)
    if local is not None:
        return json(await _entity(services, grant, *local))
    return json(await _remote_entity(services, grant, await _remote(services, grant, poll_id)))


def _choices(values: dict[str, Any], options: int, multiple: bool) -> list[int]:
    raw = params.strings(values, "choices")
    if not raw or not all(c.isdigit() and int(c) < options for c in raw):
        raise Unprocessable("Validation failed: Choices are not included in the list")
    choices = sorted({int(c) for c in raw})
    if len(choices) > 1 and not multiple:
        raise Unprocessable("Validation failed: Choices must be one")
    return choices


@endpoint("write:statuses")
async def vote(request: Request, grant: Grant | None) -> Response:
    """Vote, as the business, in another business's poll here (counted like a vote from
    elsewhere) or in a poll elsewhere (sent as Mastodon votes); ``choices[]`` are option
    indexes."""
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    poll_id = path_id(str(request.path_params["id"]), "poll")
    values = await params.read(request, services.settings.max_body_bytes)
    now = services.now_ms()
    local = await _local(services, grant, poll_id)
    if local is None:
        note = await _remote(services, grant, poll_id)
        shown = received_poll(note, now)
        assert shown is not None
        choices = _choices(values, len(shown["options"]), bool(shown["multiple"]))
        if shown["expired"]:
            raise Unprocessable("Validation failed: The poll has already ended")
        if await polls.given_votes(services.store, business.id, int(note["id"])):
            raise Unprocessable("Validation failed: You have already voted on this poll")
        await poll_commands.vote_elsewhere(services, business, note, choices)
        fresh = await _remote(services, grant, poll_id)
        return json(await _remote_entity(services, grant, fresh))
    poll, own = local
    if own:
        raise Unprocessable("Validation failed: You cannot vote in your own poll")
    choices = _choices(values, len(poll.options), poll.multiple)
    if poll.closed(now):
        raise Unprocessable("Validation failed: The poll has already ended")
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
    fresh_poll = await polls.of_post(services.store, poll.post_id)
    assert fresh_poll is not None
    return json(await _entity(services, grant, fresh_poll, own))


routes = [
    Route("/api/v1/polls/{id}", get_poll, methods=["GET"]),
    Route("/api/v1/polls/{id}/votes", vote, methods=["POST"]),
]
