"""Votes on a business's polls, as Mastodon sends them: a ``Create{Note}`` whose ``name``
is the option chosen and whose ``inReplyTo`` is the ``Question``, with no content, to the
poll's author only (one Create per option chosen).

A vote counts once per voter and option (the vote Note's id is kept, so a redelivery is
nothing); it is ignored, not stored as a reply, when the option is not one of the poll's
(compared after ``clean_text``), the poll has closed, the voter already voted in a
one-choice poll, or the business blocks the voter. The new counts go out later, batched
(``outbound/polls.py``).
"""

from __future__ import annotations

import logging
from typing import Any

from fedi_town.inbound.context import Inbound
from fedi_town.protocol.reading import clean_text, id_of, text_of
from fedi_town.store import polls
from fedi_town.store import posts as post_store

log = logging.getLogger(__name__)

#: The longest option name looked at (Mastodon's options are at most 50 characters).
MAX_NAME = 200


def looks_like_vote(note: dict[str, Any]) -> bool:
    """A note with a ``name``, replying to something, and no text: Mastodon's vote shape."""
    name = note.get("name")
    content = text_of(note.get("content"), note.get("contentMap"))
    return (
        isinstance(name, str)
        and bool(name.strip())
        and bool(id_of(note.get("inReplyTo")))
        and not (content or "").strip()
    )


async def on_vote(ctx: Inbound, note: dict[str, Any]) -> str | None:
    """Count the vote of ``note``; None when it is not about a poll of ours (then it is an
    ordinary note), else what was done."""
    question = id_of(note.get("inReplyTo"))
    vote_uri = id_of(note)
    if not question or not vote_uri:
        return None
    post = await post_store.by_uri(ctx.store, question)
    if post is None or post.deleted_at is not None:
        return None
    poll = await polls.of_post(ctx.store, post.id)
    if poll is None:
        return None
    name = clean_text(str(note.get("name", ""))[:MAX_NAME]).strip()
    if name not in poll.options:
        return "ignored: a vote for an option the poll does not have"
    now = ctx.services.now_ms()
    if poll.closed(now):
        return "ignored: a vote after the poll closed"
    if await ctx.blocked_by(poll.business_id):
        return "ignored: a vote from a blocked account"
    async with ctx.store.transaction():
        earlier = await polls.voted(ctx.store, post.id, ctx.actor_uri)
        if earlier and not poll.multiple:
            return "ignored: a second vote in a one-choice poll"
        counted = await polls.add_vote(
            ctx.store,
            post_id=post.id,
            voter_uri=ctx.actor_uri,
            choice=poll.options.index(name),
            vote_uri=vote_uri,
            now=now,
        )
    if not counted:
        return "ignored: this vote was counted before"
    log.info("vote counted in the poll of post %d", post.id)
    return "vote counted"
