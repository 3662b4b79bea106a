"""What a transaction tells the rest of the process once it commits (``Store.after_commit``).

    Wake(queue)                 rows were queued: the worker looks now, not at its next poll
    BusinessChanged(username)   what a business's documents show changed (profile, posts,
                                pins, deletion): the read side drops them, and NodeInfo
    FollowersChanged()          a follow was added, accepted or removed: follower counts
    StreamEvent()               an event for streaming apps was stored: this process's
                                streams read it now, not at their next poll

Writers say what changed; who listens (the worker, the read side's cache) subscribes once at
start with ``Store.on_commit``, so no call site wires a listener by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from fedi_town.store.queue import Queue


@dataclass(frozen=True)
class Wake:
    """New work in ``queue``, or None for every queue."""

    queue: Queue | None = None


@dataclass(frozen=True)
class BusinessChanged:
    username: str


@dataclass(frozen=True)
class FollowersChanged:
    pass


@dataclass(frozen=True)
class StreamEvent:
    pass
