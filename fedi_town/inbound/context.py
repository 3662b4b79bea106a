"""What a handler gets: the activity, who sent it, and lookups of our own objects.

Inside a group of inbox items (``group_reads``: one transaction, ``inbound.dispatch``) the
lookups of our own posts and businesses are read once per group: a burst of likes of one
post reads it once, not once per like. Who follows the group's senders (whose posts reach
home timelines) is read in one query for all of them when the first item asks; an item of
a type that may change it (``item_done``: anything but a like, boost or post) makes the
next ask read again, so a Create after an Accept of a follow, in one group, is seen as
followed. The inbox handlers never write those rows, and on
SQLite nothing else writes while the group's transaction holds the write lock, so a
second read would find the same; on PostgreSQL a post deleted while a group runs (a tenth
of a second) counts as deleted after it, as if the group had read it first.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fedi_town.protocol.reading import Activity, first_type
from fedi_town.remote import actors as remote_actors
from fedi_town.services import Services
from fedi_town.store import actors as store_actors
from fedi_town.store import local_actors, moderation, social, timeline
from fedi_town.store.actors import RemoteActor
from fedi_town.store.businesses import Business
from fedi_town.store.db import Store
from fedi_town.store.social import LocalPost


@dataclass
class _GroupReads:
    posts: dict[str, LocalPost | None] = field(default_factory=dict)
    businesses: dict[str, Business | None] = field(default_factory=dict)
    #: the group's known senders' ids, and (once asked) which businesses follow each
    sender_ids: tuple[int, ...] = ()
    followers: dict[int, list[int]] | None = None


_group: contextvars.ContextVar[_GroupReads | None] = contextvars.ContextVar(
    "inbound_group_reads", default=None
)


@contextmanager
def group_reads(sender_ids: Iterable[int] = ()) -> Iterator[None]:
    """Within this block (one group's transaction), our posts and businesses are read once,
    and who follows the senders (``sender_ids``) in one query (see the module docstring)."""
    token = _group.set(_GroupReads(sender_ids=tuple(dict.fromkeys(sender_ids))))
    try:
        yield
    finally:
        _group.reset(token)


#: Activity types whose handlers never change which businesses follow an account.
_KEEP_FOLLOWING = frozenset({"Like", "EmojiReact", "Announce", "Create"})


def item_done(kind: str) -> None:
    """An item of type ``kind`` of the group was handled (or failed): after one that may
    have changed who follows whom (an Accept of a follow, a Move, ...), the next item that
    asks reads the followers again."""
    reads = _group.get()
    if reads is not None and kind not in _KEEP_FOLLOWING:
        reads.followers = None


@dataclass
class Inbound:
    """One received activity being handled.

    ``actor_uri`` is the activity's ``actor``, whose key signed the request (checked by
    the inbox). ``business_id`` is set when it arrived at a business's personal inbox.
    ``kind`` is the type the inbox chose for it (of several, the first with a handler);
    when not given, the first type of the activity.
    """

    services: Services
    item_id: int
    activity: Activity
    actor_uri: str
    business_id: int | None = None
    kind: str = ""
    _actor: RemoteActor | None = field(default=None, repr=False)

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def type(self) -> str:
        return self.kind or first_type(self.activity) or ""

    @property
    def object(self) -> Any:
        return self.activity.get("object")

    async def actor(self) -> RemoteActor:
        """The sending actor's stored row, fetched first if we do not have it.

        Call before opening the handler's transaction (it may fetch over the network).
        """
        if self._actor is None:
            known: RemoteActor | None
            local = await local_actors.business_at(self.store, self.services.urls, self.actor_uri)
            if local is not None:  # another business here: from the database, never HTTP
                known = await local_actors.as_actor(
                    self.store, self.services.urls, local, now=self.services.now_ms()
                )
            else:
                known = await store_actors.recent_by_uri(self.store, self.actor_uri)
            if known is None:
                known = await remote_actors.fetch_actor(self.services.fetcher(), self.actor_uri)
            self._actor = known
        return self._actor

    async def business_at(self, uri: str | None) -> Business | None:
        """The live business whose actor id is ``uri``, or None."""
        if not uri:
            return None
        reads = _group.get()
        if reads is None:
            return await local_actors.business_at(self.store, self.services.urls, uri)
        if uri not in reads.businesses:
            found = await local_actors.business_at(self.store, self.services.urls, uri)
            reads.businesses[uri] = found
        return reads.businesses[uri]

    async def post_at(self, uri: str | None) -> LocalPost | None:
        """A live post of ours whose id is ``uri``, or None."""
        if not uri:
            return None
        reads = _group.get()
        if reads is None:
            return await social.post_by_uri(self.store, uri)
        if uri not in reads.posts:
            reads.posts[uri] = await social.post_by_uri(self.store, uri)
        return reads.posts[uri]

    async def followers_of(self, actor: RemoteActor) -> list[int]:
        """Businesses whose follow of ``actor`` is accepted. In a group, read for all the
        group's senders known here at the first ask (``timeline.followers_of_many``)."""
        reads = _group.get()
        if reads is None:
            return await timeline.followers_of(self.store, actor.id)
        if reads.followers is None or actor.id not in reads.followers:
            ids = {actor.id}
            if reads.followers is None:
                ids.update(reads.sender_ids)
            found = await timeline.followers_of_many(self.store, ids)
            reads.followers = {**(reads.followers or {}), **found}
        return reads.followers[actor.id]

    async def blocked_by(self, business_id: int) -> bool:
        """Whether that business (or the instance) blocks the sender (from memory:
        ``moderation.blocking`` keeps the block list per process)."""
        return await moderation.blocking(self.store, self.actor_uri, business_id) is not None
