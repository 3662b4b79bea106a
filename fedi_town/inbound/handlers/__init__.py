"""One handler per activity type. Each takes an ``Inbound`` and returns what it did (a short
phrase for the decision log); each is idempotent and writes in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fedi_town.inbound.context import Inbound
from fedi_town.inbound.handlers.accounts import on_delete, on_move, on_update
from fedi_town.inbound.handlers.boosts import on_announce
from fedi_town.inbound.handlers.follows import on_block, on_follow
from fedi_town.inbound.handlers.notes import on_create
from fedi_town.inbound.handlers.quotes import on_answer, on_quote_request
from fedi_town.inbound.handlers.reactions import on_reaction
from fedi_town.inbound.handlers.reports import on_flag
from fedi_town.inbound.handlers.undo import on_undo

Handler = Callable[[Inbound], Awaitable[str]]

HANDLERS: dict[str, Handler] = {
    "Follow": on_follow,
    "Undo": on_undo,
    "Accept": on_answer,
    "Reject": on_answer,
    "Like": on_reaction,
    "EmojiReact": on_reaction,
    "Announce": on_announce,
    "Create": on_create,
    "Update": on_update,
    "Delete": on_delete,
    "Block": on_block,
    "Flag": on_flag,
    "Move": on_move,
    "QuoteRequest": on_quote_request,
}
