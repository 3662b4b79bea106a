"""Queries on blocks and reports.

A block has ``business_id`` (NULL: instance-wide, set by the admin) and exactly one of
``actor_uri`` or ``domain``. A domain block covers its subdomains, as Mastodon's do.
A report (a received ``Flag``) is one ``reports`` row, visible to the admin, and one
``report_targets`` row per business it names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fedi_town.store.db import Store, new_id, now_ms


@dataclass(frozen=True)
class Block:
    id: int
    business_id: int | None
    actor_uri: str | None
    domain: str | None
    created_at: int


def _block(row: Mapping[str, Any]) -> Block:
    business = row["business_id"]
    return Block(
        int(row["id"]),
        int(business) if business is not None else None,
        row["actor_uri"],
        row["domain"],
        int(row["created_at"]),
    )


def domain_candidates(uri_or_domain: str) -> list[str]:
    """Every domain block that would cover this actor URI or domain: its ``host:port``,
    its host, and each parent domain (``a.b.example`` -> ``b.example``, ``example``)."""
    text = uri_or_domain.lower()
    netloc = urlsplit(text).netloc if "://" in text else text
    if not netloc:
        return []
    host = netloc.rsplit(":", 1)[0] if not netloc.endswith("]") else netloc
    found = [netloc]
    labels = host.split(".")
    for i in range(len(labels)):
        candidate = ".".join(labels[i:])
        if candidate and candidate not in found:
            found.append(candidate)
    return found


def _in_clause(prefix: str, items: Sequence[str], values: dict[str, Any]) -> str:
    names = []
    for i, item in enumerate(items):
        names.append(f":{prefix}{i}")
        values[f"{prefix}{i}"] = item
    return ", ".join(names)


async def blocking(
    store: Store, actor_uri: str, business_id: int | None = None, *, also: Sequence[str] = ()
) -> Block | None:
    """The first block that covers ``actor_uri`` (or any URI in ``also``, such as a keyId)
    instance-wide or, with ``business_id``, for that business. None if not blocked."""
    values: dict[str, Any] = {}
    domains: list[str] = []
    for uri in (actor_uri, *also):
        domains += [d for d in domain_candidates(uri) if d not in domains]
    uris = [actor_uri, *also]
    scope = "business_id IS NULL"
    if business_id is not None:
        scope = "(business_id IS NULL OR business_id = :b)"
        values["b"] = business_id
    sql = f"SELECT * FROM blocks WHERE {scope} AND (actor_uri IN ({_in_clause('u', uris, values)})"  # noqa: S608
    if domains:
        sql += f" OR domain IN ({_in_clause('d', domains, values)})"
    sql += ") ORDER BY business_id IS NOT NULL, id LIMIT 1"
    row = await store.fetch_one(sql, values)
    return _block(row) if row else None


async def add_block(
    store: Store, *, business_id: int | None, actor_uri: str | None, domain: str | None
) -> tuple[Block, bool]:
    """Add a block (or find the same one); return it and whether it is new."""
    assert (actor_uri is None) != (domain is None)
    existing = await find_block(store, business_id=business_id, actor_uri=actor_uri, domain=domain)
    if existing is not None:
        return existing, False
    await store.execute(
        "INSERT INTO blocks (id, business_id, actor_uri, domain, created_at) "
        "VALUES (:id, :b, :u, :d, :now) ON CONFLICT DO NOTHING",
        {"id": new_id(), "b": business_id, "u": actor_uri, "d": domain, "now": now_ms()},
    )
    found = await find_block(store, business_id=business_id, actor_uri=actor_uri, domain=domain)
    assert found is not None
    return found, True


async def find_block(
    store: Store, *, business_id: int | None, actor_uri: str | None, domain: str | None
) -> Block | None:
    values: dict[str, Any] = {}
    where = []
    for column, value, name in (
        ("business_id", business_id, "b"),
        ("actor_uri", actor_uri, "u"),
        ("domain", domain, "d"),
    ):
        if value is None:
            where.append(f"{column} IS NULL")
        else:
            where.append(f"{column} = :{name}")
            values[name] = value
    row = await store.fetch_one(
        f"SELECT * FROM blocks WHERE {' AND '.join(where)}",  # noqa: S608
        values,
    )
    return _block(row) if row else None


async def list_blocks(
    store: Store, *, business_id: int | None, limit: int, max_id: int | None = None
) -> list[Block]:
    """Blocks of a business (or instance-wide ones for ``None``), newest first."""
    values: dict[str, Any] = {"limit": limit}
    sql = "SELECT * FROM blocks WHERE "
    if business_id is None:
        sql += "business_id IS NULL"
    else:
        sql += "business_id = :b"
        values["b"] = business_id
    if max_id is not None:
        sql += " AND id < :max"
        values["max"] = max_id
    rows = await store.fetch_all(sql + " ORDER BY id DESC LIMIT :limit", values)
    return [_block(r) for r in rows]


async def delete_block(store: Store, *, business_id: int | None, block_id: int) -> bool:
    """Remove one block of a business (or an instance-wide one); False if there is none."""
    scope = "business_id IS NULL" if business_id is None else "business_id = :b"
    values: dict[str, Any] = {"id": block_id}
    if business_id is not None:
        values["b"] = business_id
    found = await store.fetch_val(
        f"SELECT 1 FROM blocks WHERE id = :id AND {scope}",  # noqa: S608
        values,
    )
    if not found:
        return False
    await store.execute("DELETE FROM blocks WHERE id = :id", {"id": block_id})
    return True


# -- reports ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    id: int
    business_id: int | None
    activity_uri: str
    actor_uri: str
    content: str
    object_uris: list[str]
    created_at: int


def _report(row: Mapping[str, Any]) -> Report:
    business = row["business_id"]
    return Report(
        int(row["id"]),
        int(business) if business is not None else None,
        str(row["activity_uri"]),
        str(row["actor_uri"]),
        str(row["content"]),
        json.loads(row["object_uris"] or "[]"),
        int(row["created_at"]),
    )


async def add_report(
    store: Store,
    *,
    activity_uri: str,
    actor_uri: str,
    content: str,
    object_uris: Sequence[str],
    business_ids: Sequence[int],
) -> int | None:
    """Store a report and its targets; None when this Flag was stored before."""
    report_id = new_id()
    row = await store.fetch_one(
        "INSERT INTO reports (id, business_id, activity_uri, actor_uri, content, object_uris, "
        "created_at) VALUES (:id, :b, :uri, :actor, :content, :objects, :now) "
        "ON CONFLICT (activity_uri) DO NOTHING RETURNING id",
        {
            "id": report_id,
            "b": business_ids[0] if business_ids else None,
            "uri": activity_uri,
            "actor": actor_uri,
            "content": content,
            "objects": json.dumps(list(object_uris)),
            "now": now_ms(),
        },
    )
    if row is None:
        return None
    for business_id in business_ids:
        await store.execute(
            "INSERT INTO report_targets (report_id, business_id) VALUES (:r, :b) "
            "ON CONFLICT DO NOTHING",
            {"r": report_id, "b": business_id},
        )
    return report_id


async def list_reports(
    store: Store, *, business_id: int | None, limit: int, max_id: int | None = None
) -> list[Report]:
    """Reports naming a business, or every report (the admin's view) for ``None``."""
    values: dict[str, Any] = {"limit": limit}
    if business_id is None:
        sql = "SELECT * FROM reports r WHERE 1 = 1"
    else:
        sql = (
            "SELECT r.* FROM reports r JOIN report_targets t ON t.report_id = r.id "
            "WHERE t.business_id = :b"
        )
        values["b"] = business_id
    if max_id is not None:
        sql += " AND r.id < :max"
        values["max"] = max_id
    rows = await store.fetch_all(sql + " ORDER BY r.id DESC LIMIT :limit", values)
    return [_report(r) for r in rows]


async def report_targets(store: Store, report_id: int) -> list[int]:
    rows = await store.fetch_all(
        "SELECT business_id FROM report_targets WHERE report_id = :r", {"r": report_id}
    )
    return [int(r["business_id"]) for r in rows]
