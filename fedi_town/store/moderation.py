"""Queries on blocks and reports.

A block has ``business_id`` (NULL: instance-wide, set by the admin) and exactly one of
``actor_uri`` or ``domain``. A domain block covers its subdomains, as Mastodon's do.
A report (a received ``Flag``) is one ``reports`` row, visible to the admin, and one
``report_targets`` row per business it names.

``blocking`` answers from memory: every inbox POST, signed GET and inbox item asks it, and
the block list is small and changes only through ``add_block`` / ``delete_block``. Each
process keeps a snapshot of the whole ``blocks`` table per ``Store``:

- a change made through this module in this process marks the snapshot stale, so the next
  check reloads it (callers that add a block inside a longer transaction call
  ``blocks_changed`` again after it commits, so a reload that ran before the commit is
  not kept);
- otherwise the snapshot is reloaded when it is older than ``BLOCKS_REFRESH_SECONDS`` (1 s),
  one query for the whole table. So a block added by *another* process sharing the
  PostgreSQL database (a second web process, ``fedi-town worker``) takes effect here within
  about one second plus the time of that query.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fedi_town.store.db import Store, new_id

#: How old another process's block changes may be when this process checks (seconds).
BLOCKS_REFRESH_SECONDS = 1.0


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


def _scopes(business_id: int | None) -> tuple[int | None, ...]:
    return (None,) if business_id is None else (None, business_id)


@dataclass(frozen=True)
class BlockList:
    """Every block, indexed by (business_id or None, actor URI) and (…, domain)."""

    actors: dict[tuple[int | None, str], Block] = field(default_factory=dict)
    domains: dict[tuple[int | None, str], Block] = field(default_factory=dict)

    @classmethod
    def of(cls, blocks: Sequence[Block]) -> BlockList:
        found = cls()
        for block in blocks:
            if block.actor_uri is not None:
                found.actors[(block.business_id, block.actor_uri)] = block
            if block.domain is not None:
                found.domains[(block.business_id, block.domain)] = block
        return found

    def first(
        self, actor_uri: str, business_id: int | None = None, also: Sequence[str] = ()
    ) -> Block | None:
        """The block ``blocking`` returns: instance-wide ones first, then the oldest."""
        uris = (actor_uri, *also)
        matches: list[Block] = []
        for scope in _scopes(business_id):
            for uri in uris:
                if (block := self.actors.get((scope, uri))) is not None:
                    matches.append(block)
            if self.domains:
                for uri in uris:
                    for domain in domain_candidates(uri):
                        if (block := self.domains.get((scope, domain))) is not None:
                            matches.append(block)
        if not matches:
            return None
        return min(matches, key=lambda b: (b.business_id is not None, b.id))


class _Snapshot:
    """One store's block list in this process, and when it was loaded."""

    def __init__(self) -> None:
        self.blocks: BlockList | None = None
        self.loaded_at = 0.0
        self.generation = 0  # bumped by every change seen in this process
        self.lock = asyncio.Lock()


def _snapshot(store: Store) -> _Snapshot:
    return store.memory("block_list", _Snapshot)


def blocks_changed(store: Store) -> None:
    """Forget this process's block list: the next check reloads it from the database.

    ``add_block`` and ``delete_block`` call it; call it again after the transaction around
    them commits, so that a check that reloaded before the commit does not keep old data.
    """
    snapshot = _snapshot(store)
    snapshot.generation += 1
    snapshot.blocks = None


async def block_list(store: Store) -> BlockList:
    """The current block list: from memory, reloaded when changed here or over a second old."""
    snapshot = _snapshot(store)
    blocks = snapshot.blocks
    if blocks is not None and time.monotonic() - snapshot.loaded_at < BLOCKS_REFRESH_SECONDS:
        return blocks
    async with snapshot.lock:  # one reload at a time; the others wait for it
        blocks = snapshot.blocks
        if blocks is not None and time.monotonic() - snapshot.loaded_at < BLOCKS_REFRESH_SECONDS:
            return blocks
        generation = snapshot.generation
        started = time.monotonic()
        rows = await store.fetch_all("SELECT * FROM blocks")
        blocks = BlockList.of([_block(r) for r in rows])
        if snapshot.generation == generation:  # no change while loading: keep it
            snapshot.blocks, snapshot.loaded_at = blocks, started
        return blocks


async def blocking(
    store: Store, actor_uri: str, business_id: int | None = None, *, also: Sequence[str] = ()
) -> Block | None:
    """The first block that covers ``actor_uri`` (or any URI in ``also``, such as a keyId)
    instance-wide or, with ``business_id``, for that business. None if not blocked.

    Answered from this process's snapshot of the block list (see the module docstring)."""
    return (await block_list(store)).first(actor_uri, business_id, also)


async def add_block(
    store: Store,
    *,
    business_id: int | None,
    actor_uri: str | None,
    domain: str | None,
    now: int,
) -> tuple[Block, bool]:
    """Add a block (or find the same one); return it and whether it is new."""
    assert (actor_uri is None) != (domain is None)
    existing = await find_block(store, business_id=business_id, actor_uri=actor_uri, domain=domain)
    if existing is not None:
        return existing, False
    await store.execute(
        "INSERT INTO blocks (id, business_id, actor_uri, domain, created_at) "
        "VALUES (:id, :b, :u, :d, :now) ON CONFLICT DO NOTHING",
        {"id": new_id(now), "b": business_id, "u": actor_uri, "d": domain, "now": now},
    )
    blocks_changed(store)
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
    blocks_changed(store)
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
    now: int,
) -> int | None:
    """Store a report and its targets; None when this Flag was stored before."""
    report_id = new_id(now)
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
            "now": now,
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
