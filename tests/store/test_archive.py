"""Backups taken while serving, restored on the other backend; copies between databases;
archives that cannot be restored are refused before anything is written."""

from __future__ import annotations

import asyncio
import io
import json
import tarfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fedi_town.errors import ConfigError
from fedi_town.media.storage import LocalMediaStore
from fedi_town.protocol import httpsig, keys
from fedi_town.protocol.sealed import Keyring, new_key
from fedi_town.services import Services
from fedi_town.store import archive, businesses, portable
from fedi_town.store.archive import ArchiveError
from fedi_town.store.db import Store
from fedi_town.store.migrations import migrate
from tests.api.helpers import followers_from
from tests.conftest import KEY_ENCRYPTION_KEY, _app_client, make_settings
from tests.live import LiveInstance, live_instance
from tests.media.conftest import image_bytes
from tests.outbound.conftest import owner, upload, write_post

pytestmark = pytest.mark.anyio

RING = Keyring([KEY_ENCRYPTION_KEY])
AS2 = {"Accept": "application/activity+json"}
FOLLOWERS = ("https://m.example/users/ann", "https://m.example/users/ben", "https://s.example/u/cy")


@asynccontextmanager
async def migrated(url: str) -> AsyncIterator[Store]:
    store = Store(url)
    await store.connect()
    await migrate(store)
    try:
        yield store
    finally:
        await store.disconnect()


async def populate(live: LiveInstance) -> dict[str, Any]:
    """A business with followers, posts with photos, an offer and an event."""
    shop = await live.create_business("bakery", display_name="Corner Bakery")
    store = live.store
    await businesses.update(store, int(shop["id"]), {"timezone": "Europe/London"}, now=0)
    business = await businesses.by_username(store, "bakery")
    await followers_from(live.services, business, *FOLLOWERS)
    photos = [
        (await upload(live.client, shop, image_bytes(color=c), description=f"loaf {c}")).json()
        for c in ((200, 90, 20), (20, 90, 200))
    ]
    post = await write_post(
        live.client, shop, content="Fresh rye today", media_ids=[p["id"] for p in photos]
    )
    assert post.status_code == 201, post.text
    offer = await live.client.post(
        "/api/v1/businesses/bakery/offers",
        json={"title": "Two loaves for £5", "price": "5.00", "currency": "GBP"},
        headers=owner(shop),
    )
    assert offer.status_code == 201, offer.text
    event = await live.client.post(
        "/api/v1/businesses/bakery/events",
        json={"title": "Tasting", "start": "2027-01-09T10:00", "end": "2027-01-09T12:00"},
        headers=owner(shop),
    )
    assert event.status_code == 201, event.text
    return {"shop": shop, "post": post.json(), "photos": photos}


async def keep_posting(
    live: LiveInstance, shop: dict[str, Any], stop: asyncio.Event, posted: asyncio.Event
) -> int:
    """Post until ``stop`` is set: writes going on while the backup runs. ``posted`` is set
    once the first of them is committed."""
    written = 0
    while not stop.is_set():
        response = await write_post(live.client, shop, content=f"busy morning {written}")
        assert response.status_code == 201, response.text
        written += 1
        posted.set()
    return written


def archived_rows(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows as the archive holds them."""
    rows: dict[str, list[dict[str, Any]]] = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar.getmembers():
            if member.name.startswith("tables/"):
                handle = tar.extractfile(member)
                assert handle is not None
                table = member.name.removeprefix("tables/").removesuffix(".jsonl")
                rows[table] = [json.loads(line) for line in handle.read().splitlines()]
    return rows


def rows_key(row: dict[str, Any]) -> str:
    return json.dumps({k: (int(v) if isinstance(v, bool) else v) for k, v in row.items()})


async def database_rows(store: Store, table: str) -> list[dict[str, Any]]:
    columns = (await portable.columns_of(store))[table]
    raw = await store.fetch_all(f"SELECT * FROM {table}")
    return [portable._portable(row, columns) for row in raw]


async def backup_while_serving(
    live: LiveInstance, shop: dict[str, Any], destination: Path
) -> archive.Manifest:
    """A backup taken while the owner keeps posting."""
    stop, posted = asyncio.Event(), asyncio.Event()
    writer = asyncio.create_task(keep_posting(live, shop, stop, posted))
    # The writer is busy: one post is in (a fixed sleep was too short on a loaded machine)
    await asyncio.wait_for(posted.wait(), timeout=30)
    manifest = await archive.backup(live.store, live.services.media, destination)
    stop.set()
    assert await writer > 0
    return manifest


async def test_a_backup_taken_while_serving_restores_on_the_other_backend_the_same_instance(
    database_url, other_database_url, tmp_path
):
    # Given a serving instance with a business, followers, posts with photos, an offer, an
    # event, and an owner posting all the while the backup is taken
    destination = tmp_path / "backup.tar.gz"
    async with live_instance(database_url, tmp_path / "a") as live:
        made = await populate(live)
        manifest = await backup_while_serving(live, made["shop"], destination)
        actor = (await live.client.get(live.urls.actor("bakery"), headers=AS2)).json()
        post_url = made["post"]["url"]
        post = (await live.client.get(post_url, headers=AS2)).json()
        followers = (await live.client.get(live.urls.followers("bakery"), headers=AS2)).json()
        base_url = live.settings.base_url
    rows = archived_rows(destination)
    # Then the snapshot is consistent: every post came with its Create, none half-written
    created = {a["post_id"] for a in rows["outgoing_activities"] if a["type"] == "Create"}
    assert {p["id"] for p in rows["posts"]} == created
    assert manifest.counts["posts"] == len(rows["posts"]) >= 4
    assert manifest.media_files == 2 and manifest.source == portable_dialect(database_url)

    # When it is restored into a fresh instance on the other backend
    media_b = tmp_path / "b" / "media"
    async with migrated(other_database_url) as target:
        restored = await archive.restore(target, LocalMediaStore(media_b), destination, RING)
        assert restored.counts == manifest.counts
        # Then every table holds exactly the archived rows, types and all
        for table, archived in rows.items():
            found = await database_rows(target, table)
            assert sorted(map(rows_key, found)) == sorted(map(rows_key, archived)), table

    # And the restored instance serves the same actor, key, followers, post and photos
    settings = make_settings(other_database_url, tmp_path / "b", base_url=base_url)
    async with _app_client(Services.from_settings(settings)) as client:
        assert (await client.get(actor["id"], headers=AS2)).json() == actor
        assert (await client.get(post_url, headers=AS2)).json() == post
        assert (await client.get(followers["id"], headers=AS2)).json() == followers
        for photo in made["photos"]:
            served = await client.get(photo["url"])
            assert served.status_code == 200
            name = photo["url"].rsplit("/", 1)[1]
            assert served.content == (tmp_path / "a" / "media" / name).read_bytes()
        # And a request signed with the restored private key verifies with the actor's key
        restored_business = await businesses.by_username(client.services.store, "bakery")
        assert restored_business is not None
        pem = client.services.sealed_keys.private_pem(restored_business.sealed_private_key)
        assert_signs_for(actor, pem)


def portable_dialect(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def assert_signs_for(actor: dict[str, Any], private_pem: str) -> None:
    now = datetime.now(UTC)
    url = "https://peer.example/inbox"
    headers = httpsig.sign_request(
        "POST",
        url,
        {"Content-Type": "application/activity+json"},
        b"{}",
        key_id=actor["publicKey"]["id"],
        private_key=keys.load_private_key(private_pem),
        now=now,
    )
    signature = httpsig.parse_request_signature("POST", "/inbox", headers, b"{}")
    public = keys.load_public_key(actor["publicKey"]["publicKeyPem"])
    httpsig.verify_request_signature(signature, public, now=now)


async def test_copy_database_copies_every_row_to_the_other_backend_with_verified_counts(
    database_url, other_database_url, tmp_path
):
    # Given a serving instance with a business, followers, posts, an offer and an event
    async with live_instance(database_url, tmp_path / "a") as live:
        await populate(live)
        # When its database is copied into an empty one of the other backend
        async with migrated(other_database_url) as target:
            progress: list[tuple[str, int, int | None]] = []
            source, found = await archive.copy_database(
                live.store, target, lambda stage, done, total: progress.append((stage, done, total))
            )
            # Then every table has as many rows as the source had, and says so table by table
            assert found == source == await portable.counts(target)
            assert source["businesses"] == 1 and source["follows"] == len(FOLLOWERS)
            assert source["media"] == 2 and source["posts"] >= 3
            reading = {s[8:]: (n, t) for s, n, t in progress if s.startswith("reading ")}
            writing = {s[8:]: (n, t) for s, n, t in progress if s.startswith("writing ")}
            assert reading == writing == {table: (n, n) for table, n in source.items()}
            # And the rows are the source's
            for table in ("businesses", "follows", "posts", "media", "offers", "events"):
                mine = sorted(map(rows_key, await database_rows(live.store, table)))
                assert sorted(map(rows_key, await database_rows(target, table))) == mine


async def test_copy_database_refuses_a_target_that_already_has_businesses(
    database_url, other_database_url, tmp_path
):
    async with live_instance(database_url, tmp_path / "a") as live:
        await populate(live)
        async with migrated(other_database_url) as target:
            await archive.copy_database(live.store, target)
            with pytest.raises(ArchiveError, match="already has businesses"):
                await archive.copy_database(live.store, target)


# Archives that cannot be restored: a one-line reason, and the target untouched.


@pytest.fixture
async def good_archive(database_url, tmp_path) -> Path:
    destination = tmp_path / "good.tar.gz"
    async with live_instance(database_url, tmp_path / "a") as live:
        await populate(live)
        await archive.backup(live.store, live.services.media, destination)
    return destination


def rewritten(
    source: Path, destination: Path, change: dict[str, Any], without: tuple[str, ...] = ()
) -> Path:
    """``source`` with its manifest's top-level fields changed and the tables ``without``
    left out (as an archive of an older schema that had no such tables)."""
    with tarfile.open(source, "r:gz") as tar, tarfile.open(destination, "w:gz") as out:
        for member in tar.getmembers():
            if member.name.removeprefix("tables/").removesuffix(".jsonl") in without:
                continue
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == archive.MANIFEST:
                manifest = json.loads(data) | change
                for key in ("counts", "columns"):
                    manifest[key] = {t: v for t, v in manifest[key].items() if t not in without}
                data = json.dumps(manifest).encode()
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    return destination


async def assert_refused_untouched(target: Store, media: Path, path: Path, error: Any, match: str):
    with pytest.raises(error, match=match) as raised:
        await archive.restore(target, LocalMediaStore(media), path, RING)
    assert "\n" not in str(raised.value)
    assert set((await portable.counts(target)).values()) == {0}
    assert not await asyncio.to_thread(lambda: media.exists() and any(media.iterdir()))


async def test_a_truncated_archive_is_refused_before_anything_is_written(
    good_archive, other_database_url, tmp_path
):
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good_archive.read_bytes()[: good_archive.stat().st_size // 2])
    async with migrated(other_database_url) as target:
        await assert_refused_untouched(
            target, tmp_path / "m", cut, ArchiveError, "not a complete fedi-town backup"
        )


async def test_an_archive_whose_table_lost_rows_is_refused(
    good_archive, other_database_url, tmp_path
):
    # Given an archive whose posts file lost its last line (the manifest still counts it)
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(good_archive, "r:gz") as tar, tarfile.open(damaged, "w:gz") as out:
        for member in tar.getmembers():
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "tables/posts.jsonl":
                data = b"\n".join(data.splitlines()[:-1]) + b"\n"
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    async with migrated(other_database_url) as target:
        await assert_refused_untouched(target, tmp_path / "m", damaged, ArchiveError, "posts")


async def test_an_archive_of_another_format_or_a_newer_schema_is_refused(
    good_archive, other_database_url, tmp_path
):
    other_format = rewritten(good_archive, tmp_path / "f.tar.gz", {"format": 2})
    newer = rewritten(good_archive, tmp_path / "n.tar.gz", {"schema_version": 999})
    async with migrated(other_database_url) as target:
        await assert_refused_untouched(
            target, tmp_path / "m", other_format, ArchiveError, "format 2"
        )
        await assert_refused_untouched(
            target, tmp_path / "m", newer, ArchiveError, "newer fedi-town"
        )


async def test_an_archive_whose_keys_the_keyring_cannot_open_is_refused_naming_the_setting(
    good_archive, other_database_url, tmp_path
):
    async with migrated(other_database_url) as target:
        with pytest.raises(ConfigError, match="FEDI_TOWN_KEY_ENCRYPTION_KEYS") as raised:
            await archive.restore(
                target, LocalMediaStore(tmp_path / "m"), good_archive, Keyring([new_key()])
            )
        assert "\n" not in str(raised.value)
        assert set((await portable.counts(target)).values()) == {0}
        assert not (tmp_path / "m").exists()


async def test_a_restore_into_an_instance_with_businesses_is_refused(
    good_archive, other_database_url, tmp_path
):
    async with migrated(other_database_url) as target:
        await archive.restore(target, LocalMediaStore(tmp_path / "m"), good_archive, RING)
        before = await portable.counts(target)
        with pytest.raises(ArchiveError, match="already has businesses"):
            await archive.restore(target, LocalMediaStore(tmp_path / "m"), good_archive, RING)
        assert await portable.counts(target) == before


async def test_the_archive_is_readable_by_its_owner_only_with_the_manifest_first(good_archive):
    # A plain tar.gz: tar and zcat read it; the manifest says what is inside before the rest
    assert good_archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(good_archive, "r:gz") as tar:
        names = tar.getnames()
    assert names[0] == archive.MANIFEST
    assert {n.split("/")[0] for n in names} == {archive.MANIFEST, "tables", "media"}


async def test_an_archive_of_an_older_schema_is_restored_into_the_current_one(
    good_archive, other_database_url, tmp_path
):
    # Given an archive made before the people tables existed (schema 6)
    people = ("people", "invites", "web_sessions", "passkeys", "passkey_challenges")
    older = rewritten(good_archive, tmp_path / "o.tar.gz", {"schema_version": 6}, people)
    async with migrated(other_database_url) as target:
        # When it is restored into an instance of today's schema
        manifest = await archive.restore(target, LocalMediaStore(tmp_path / "m"), older, RING)
        # Then its rows are there and the newer tables are empty
        found = await portable.counts(target)
        assert manifest.schema_version == 6 and found["businesses"] == 1
        assert all(found[t] == 0 for t in people)
        assert found["posts"] == manifest.counts["posts"]
