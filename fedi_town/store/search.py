"""Queries behind the Mastodon client API's search: accounts by the start of their name
(businesses here, and actors we already know), for the search box and for mention
autocomplete. ``LIKE`` patterns are escaped, so ``%`` and ``_`` in a query are letters.
"""

from __future__ import annotations

from fedi_town.store.actors import RemoteActor, actor_from_row
from fedi_town.store.businesses import Business, by_id
from fedi_town.store.db import Store


def _prefix(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


async def businesses_named(store: Store, text: str, *, limit: int) -> list[Business]:
    """Live businesses whose username or display name starts with ``text``."""
    rows = await store.fetch_all(
        "SELECT id FROM businesses WHERE deleted_at IS NULL AND kind = :kind "
        "AND (LOWER(username) LIKE :p ESCAPE '\\' OR LOWER(display_name) LIKE :p ESCAPE '\\') "
        "ORDER BY username LIMIT :limit",
        {"kind": "business", "p": _prefix(text), "limit": limit},
    )
    found = [await by_id(store, int(r["id"])) for r in rows]
    return [b for b in found if b is not None]


async def actors_named(
    store: Store, text: str, *, domain: str | None = None, limit: int
) -> list[RemoteActor]:
    """Known remote actors whose username starts with ``text`` (on ``domain`` if given)."""
    sql = "SELECT * FROM remote_actors WHERE LOWER(username) LIKE :p ESCAPE '\\'"
    values: dict[str, object] = {"p": _prefix(text), "limit": limit}
    if domain is not None:
        sql += " AND domain = :d"
        values["d"] = domain.lower()
    rows = await store.fetch_all(sql + " ORDER BY username, id LIMIT :limit", values)
    return [actor_from_row(r) for r in rows]
