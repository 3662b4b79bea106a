"""The new counts of a business's polls, sent as ``Update{Question}``: batched, never one
per vote.

Votes (``inbound/votes.py``) only mark a poll changed. Every ``SEND_EVERY`` seconds the
worker sends, for each changed poll whose last Update is at least ``UPDATE_EVERY_MS`` old,
one Update with the current counts, to everyone who got the post and to the voters (as
Mastodon's ``DistributePollUpdateWorker``); and once more when a poll closes, with
``closed``. The Update keeps the post's ``updated`` (none, or its last edit's): receivers
refresh the counts without showing an edit.

``vote_elsewhere``: the business's own vote in a poll elsewhere, sent as Mastodon votes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fedi_town.outbound.audience import inboxes_for
from fedi_town.outbound.notes import note_input
from fedi_town.protocol import activities
from fedi_town.services import Services
from fedi_town.store import actors, businesses, local_actors, outbox, social
from fedi_town.store import deliveries as delivery_store
from fedi_town.store import polls as poll_store
from fedi_town.store import posts as post_store
from fedi_town.store.actors import actor_from_row
from fedi_town.store.businesses import Business
from fedi_town.store.db import new_id

log = logging.getLogger(__name__)

#: How often the worker looks for polls to update (seconds).
SEND_EVERY = 5.0
#: The least time between two Updates of one poll's counts (milliseconds).
UPDATE_EVERY_MS = 60_000


async def send_poll_updates(services: Services) -> int:
    """Send the Updates that are due; return how many went."""
    now = services.now_ms()
    sent = 0
    for post_id in await poll_store.due_updates(services.store, now, UPDATE_EVERY_MS):
        async with services.store.transaction():
            poll = await poll_store.of_post(services.store, post_id)
            post = await post_store.by_id_any(services.store, post_id)
            closed = poll is None or post is None or poll.closed(now)
            await poll_store.mark_sent(services.store, post_id, now=now, closed=closed)
            if poll is None or post is None or post.deleted_at is not None:
                continue  # nothing to tell any more
            business = await businesses.by_id(services.store, post.business_id)
            if business is None or business.deleted_at is not None or not post.is_published:
                continue
            inboxes = await delivery_store.audience_inboxes(services.store, post.id)
            inboxes += await inboxes_for(services, business.id, post.visibility, post.extra_inboxes)
            for voter in await poll_store.voter_uris(services.store, post.id):
                if await local_actors.business_at(services.store, services.urls, voter):
                    continue  # a business here counted its own vote: nothing to tell it
                actor = await actors.by_uri(services.store, voter)
                if actor is not None and (actor.shared_inbox or actor.inbox):
                    inboxes.append(str(actor.shared_inbox or actor.inbox))
            note = await note_input(services, business, post)
            body = activities.update_note(f"{post.uri}#updates/poll-{now}", note)
            await outbox.enqueue(
                services.store,
                business_id=business.id,
                body=body,
                inboxes=list(dict.fromkeys(inboxes)),
                post_id=post.id,
                now=now,
            )
            sent += 1
        log.info("sent the poll counts of post %d%s", post_id, " (closed)" if closed else "")
    return sent


async def vote_elsewhere(
    services: Services, business: Business, note: Mapping[str, Any], choices: Sequence[int]
) -> None:
    """The business votes in the poll of a remote note (a ``remote_notes`` row with its
    author's ``a_`` columns; ``choices`` checked by the caller): one ``Create{Note}`` per
    option to the author's inbox, as Mastodon votes, the choices kept, and the stored
    counts raised at once (as Mastodon counts its own vote before the author's Update)."""
    now = services.now_ms()
    author = actor_from_row(note, "a_")
    inbox = author.inbox or author.shared_inbox
    poll = json.loads(note["poll"]) if isinstance(note["poll"], str) else dict(note["poll"])
    me = services.urls.actor(business.username)
    async with services.store.transaction():
        for choice in choices:
            vote_id = f"{me}#votes/{new_id(now)}"
            await poll_store.give_vote(
                services.store,
                business_id=business.id,
                note_id=int(note["id"]),
                choice=choice,
                vote_uri=vote_id,
                now=now,
            )
            option = poll["options"][choice]
            option["votes"] = int(option.get("votes", 0)) + 1
            body = activities.vote(
                id=vote_id,
                actor=me,
                question=str(note["uri"]),
                author=author.uri,
                option=str(option["title"]),
            )
            if inbox:
                await outbox.enqueue(
                    services.store, business_id=business.id, body=body, inboxes=[inbox], now=now
                )
        if poll.get("voters") is not None:
            poll["voters"] = int(poll["voters"]) + 1
        await social.update_poll(services.store, int(note["id"]), poll)
    log.info("business %s voted in the poll of note %s", business.username, note["id"])
