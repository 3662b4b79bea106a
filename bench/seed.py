"""A database for a benchmark run: migrated, with a business, and bulk-loaded remote actors.

The business is made by the same function as ``fedi-town create-business`` (its RSA key
included), in this process, before the server starts. Followers and remote actors with
cached keys are loaded in bulk (stdlib ``sqlite3`` / asyncpg ``COPY``): loading 100,000
followers through the store's one-row functions takes minutes, and what is measured is what
fedi-town does with the rows, not how they got there. This is the only SQL under bench/;
it writes the columns the schema requires and leaves the rest to their defaults.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fedi_town.services import Services
from fedi_town.settings import Settings
from fedi_town.store.businesses import Business
from fedi_town.store.db import new_id, now_ms
from fedi_town.store.migrations import migrate

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"
#: The benchmarks' fixed key encryption key (a bench value only).
KEY_ENCRYPTION_KEY = "gl2X-zatsTo3RUEXEajhlzzgO3F1YYD0MY-WhpgPfPk="


def sqlite_url(directory: Path, name: str = "fedi.sqlite3") -> str:
    return f"sqlite:///{directory / name}"


def postgres_url(schema: str, base: str = POSTGRES_URL) -> str:
    return f"{base}{'&' if '?' in base else '?'}schema={schema}"


def server_env(database_url: str, base_url: str, data_dir: Path) -> dict[str, str]:
    """The ``FEDI_TOWN_*`` environment of a fedi-town under benchmark."""
    return {
        "FEDI_TOWN_BASE_URL": base_url,
        "FEDI_TOWN_DATABASE_URL": database_url,
        "FEDI_TOWN_ADMIN_TOKEN": ADMIN_TOKEN,
        "FEDI_TOWN_KEY_ENCRYPTION_KEYS": KEY_ENCRYPTION_KEY,
        "FEDI_TOWN_ALLOW_PRIVATE_ADDRESSES": "true",
        "FEDI_TOWN_MEDIA_DIR": str(data_dir / "media"),
        "FEDI_TOWN_WORKER": "in-process",
        "FEDI_TOWN_LOG_LEVEL": "WARNING",
    }


async def open_services(database_url: str, base_url: str, data_dir: Path) -> Services:
    """Connected, migrated services for setting a database up (as the CLI does)."""
    settings = Settings.from_env(server_env(database_url, base_url, data_dir))
    services = Services.from_settings(settings)
    await services.store.connect()
    await migrate(services.store)
    return services


async def create_business(services: Services, username: str = "bakery") -> tuple[Business, str]:
    """A business and its owner token, exactly as ``fedi-town create-business`` makes it."""
    from fedi_town.api.businesses import create_business as create

    return await create(
        services,
        {
            "username": username,
            "display_name": "Corner Bakery",
            "summary": "Sourdough, rye and cinnamon buns, baked every morning since 1987.",
        },
    )


@dataclass(frozen=True)
class RemoteActorRow:
    uri: str
    inbox: str
    shared_inbox: str | None = None
    key_id: str | None = None
    public_pem: str | None = None


async def _copy(
    database_url: str, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[1]
        marks = ", ".join("?" for _ in columns)
        with sqlite3.connect(path, timeout=30) as conn:
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                rows,
            )
        return
    import asyncpg

    parts = urlsplit(database_url)
    schema = parse_qs(parts.query).get("schema", ["public"])[0]
    conn = await asyncpg.connect(parts._replace(query="").geturl())
    try:
        await conn.copy_records_to_table(
            table, records=rows, columns=list(columns), schema_name=schema
        )
    finally:
        await conn.close()


async def load_actors(
    database_url: str, actors: Sequence[RemoteActorRow], *, follow_business: int | None = None
) -> list[int]:
    """Insert remote actors (and their keys); with ``follow_business``, each follows it."""
    now = now_ms()
    ids = [new_id() for _ in actors]
    await _copy(
        database_url,
        "remote_actors",
        ("id", "uri", "domain", "username", "type", "inbox", "shared_inbox", "fetched_at"),
        [
            (
                actor_id,
                a.uri,
                urlsplit(a.uri).netloc,
                a.uri.rsplit("/", 1)[1],
                "Person",
                a.inbox,
                a.shared_inbox,
                now,
            )
            for actor_id, a in zip(ids, actors, strict=True)
        ],
    )
    keyed = [(a.key_id, a.uri, a.public_pem, now) for a in actors if a.key_id and a.public_pem]
    if keyed:
        await _copy(
            database_url,
            "remote_keys",
            ("key_id", "owner_uri", "public_key_pem", "fetched_at"),
            keyed,
        )
    if follow_business is not None:
        await _copy(
            database_url,
            "follows",
            ("id", "business_id", "actor_id", "state", "created_at", "updated_at"),
            [(new_id(), follow_business, actor_id, "accepted", now, now) for actor_id in ids],
        )
    return ids


async def drop_schema(database_url: str) -> None:
    """Remove a benchmark's PostgreSQL schema (no-op for SQLite)."""
    if database_url.startswith("sqlite"):
        return
    import asyncpg

    parts = urlsplit(database_url)
    schema = parse_qs(parts.query)["schema"][0]
    if not schema.isidentifier():
        raise ValueError("schema must be an identifier")
    conn = await asyncpg.connect(parts._replace(query="").geturl())
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await conn.close()


async def postgres_available(base: str = POSTGRES_URL) -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        import asyncpg

        conn = await asyncpg.connect(base, timeout=5)
        await conn.close()
    except Exception as exc:
        return f"{exc.__class__.__name__}: {exc}"
    return None
