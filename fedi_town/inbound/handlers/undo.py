"""Undo: dispatch on what is undone (embedded, or only an id we look up)."""

from __future__ import annotations

from fedi_town.inbound.context import Inbound
from fedi_town.inbound.handlers.boosts import undo_boost
from fedi_town.inbound.handlers.follows import undo_follow
from fedi_town.inbound.handlers.reactions import KINDS, undo_reaction
from fedi_town.protocol.reading import id_of, kind_of

_UNDOABLE = frozenset({"Follow", *KINDS})


async def on_undo(ctx: Inbound) -> str:
    inner = ctx.object
    if isinstance(inner, dict) and id_of(inner.get("actor")) not in (None, ctx.actor_uri):
        return "ignored: undoing someone else's activity"
    # of several types, the first one we can undo (as the inbox picks the activity's)
    kind = kind_of(inner, _UNDOABLE) if isinstance(inner, dict) else None
    if kind == "Follow":
        return await undo_follow(ctx, inner)
    if kind in KINDS:
        outcome = await undo_reaction(ctx, inner)
        if kind == "Announce" and outcome.startswith("ignored"):
            outcome = await undo_boost(ctx, inner)  # a boost in home timelines
        return outcome
    if kind is None and id_of(inner) is not None:
        # A bare id: a follow, a like/boost of this actor with that activity id, or a boost
        # shown in home timelines.
        outcome = await undo_follow(ctx, inner)
        if outcome.startswith("ignored"):
            outcome = await undo_reaction(ctx, inner)
        if outcome.startswith("ignored"):
            outcome = await undo_boost(ctx, inner)
        return outcome
    return f"ignored: Undo of {kind or 'nothing'}"
