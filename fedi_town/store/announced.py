"""The queries offers and events share: rows of one business, announced by a post, written,
changed, soft-deleted and paged the same way (``store.offers``, ``store.events``).

``table`` and ``columns`` are the calling module's constants, never input, so the SQL built
from them is fixed; values always go as parameters. ``page`` serves posts too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fedi_town.store.db import Row, Store


def new_row(columns: Sequence[str], values: Mapping[str, Any]) -> dict[str, Any]:
    """The editable columns of a new row from ``values`` (missing ones None, text "")."""
    row = {key: values.get(key) for key in columns}
    row["text"] = row["text"] or ""
    return row


async def insert(
    store: Store, table: str, *, row_id: int, business_id: int, row: Mapping[str, Any], now: int
) -> None:
    """Write ``row`` (its editable columns, as stored) with its id, owner and times."""
    names = ", ".join(row)
    params = ", ".join(f":{key}" for key in row)
    await store.execute(
        f"""INSERT INTO {table} (id, business_id, {names}, created_at, updated_at)
        VALUES (:id, :b, {params}, :now, :now)""",  # noqa: S608
        {**row, "id": row_id, "b": business_id, "now": now},
    )


async def update(
    store: Store,
    table: str,
    columns: Sequence[str],
    row_id: int,
    changes: Mapping[str, Any],
    now: int,
) -> None:
    """Apply ``changes`` (keys of ``columns``, else KeyError before anything is written)
    and stamp ``updated_at``."""
    sets = ["updated_at = :now"]
    values: dict[str, Any] = {"id": row_id, "now": now}
    for key, value in changes.items():
        if key not in columns:
            raise KeyError(key)
        sets.append(f"{key} = :{key}")
        values[key] = value
    await store.execute(f"UPDATE {table} SET {', '.join(sets)} WHERE id = :id", values)  # noqa: S608


async def mark_deleted(store: Store, table: str, row_id: int, now: int) -> None:
    await store.execute(
        f"UPDATE {table} SET deleted_at = :now, updated_at = :now WHERE id = :id",  # noqa: S608
        {"id": row_id, "now": now},
    )


async def by_id(
    store: Store, table: str, business_id: int, row_id: int, *, include_deleted: bool
) -> Row | None:
    """The row of this business (another business's is not found), or None."""
    row = await store.fetch_one(
        f"SELECT * FROM {table} WHERE id = :id AND business_id = :b",  # noqa: S608
        {"id": row_id, "b": business_id},
    )
    if row is None or (row["deleted_at"] is not None and not include_deleted):
        return None
    return row


async def page(
    store: Store, table: str, business_id: int, *, max_id: int | None, limit: int
) -> list[Row]:
    """Live rows of this business newest first, ids below ``max_id``."""
    sql = f"SELECT * FROM {table} WHERE business_id = :b AND deleted_at IS NULL"  # noqa: S608
    values: dict[str, Any] = {"b": business_id, "limit": limit}
    if max_id is not None:
        sql += " AND id < :max_id"
        values["max_id"] = max_id
    return await store.fetch_all(sql + " ORDER BY id DESC LIMIT :limit", values)
