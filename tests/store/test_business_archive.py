"""One business exported to an archive and imported into another instance (the other
backend): the same profile, business data, posts and image bytes, with new ids, URIs and
keys; archives and names that cannot be imported are refused with nothing written."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedi_town.api.auth import hash_token
from fedi_town.errors import Conflict, NotFound
from fedi_town.protocol.keys import generate_rsa_keypair
from fedi_town.services import Services
from fedi_town.store import archive, business_archive, businesses
from fedi_town.store.business_archive import BusinessArchiveError, NewIdentity
from fedi_town.store.migrations import migrate
from tests.api.helpers import followers_from
from tests.conftest import _app_client, admin_headers, create_business, make_settings
from tests.media.conftest import image_bytes
from tests.outbound.conftest import owner, upload, write_post

pytestmark = pytest.mark.anyio

FOLLOWERS = ("https://m.example/users/ann", "https://s.example/u/cy")
TOKEN = "ftown_owner-token-of-the-new-server"


@asynccontextmanager
async def instance(url: str, folder: Path, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A fedi-town (in process) on database ``url`` with its media under ``folder``."""
    settings = make_settings(url, folder, base_url=base_url)
    services = Services.from_settings(settings)
    await services.store.connect()
    await migrate(services.store)
    await services.store.disconnect()
    async with _app_client(services) as client:
        yield client


def services_of(client: httpx.AsyncClient) -> Services:
    services: Services = client.services  # type: ignore[attr-defined]
    return services


async def populate(client: httpx.AsyncClient) -> dict[str, Any]:
    """A bakery with hours, a notice, an avatar, posts with photos, an offer, an event and
    followers."""
    shop = await create_business(
        client,
        "bakery",
        display_name="Corner Bakery",
        summary="Rye and **buns**",
        category="Bakery",
        timezone="Europe/London",
        opening_hours="Tu-Fr 07:00-14:00; Sa 07:00-12:00",
        location={"street_address": "1 Main Street", "locality": "Smallville"},
        fields=[{"name": "Since", "value": "1987"}],
        discoverable=False,
    )
    photos = [
        (await upload(client, shop, image_bytes(color=c), description=f"loaf {c}")).json()
        for c in ((200, 90, 20), (20, 90, 200))
    ]
    avatar = (await upload(client, shop, image_bytes(color=(1, 2, 3)))).json()
    changed = await client.patch(
        "/api/v1/businesses/bakery",
        json={"avatar_media_id": avatar["id"], "notice": {"text": "Closed on Monday"}},
        headers=owner(shop),
    )
    assert changed.status_code == 200, changed.text
    first = await write_post(client, shop, content="First loaf of the #autumn")
    second = await write_post(
        client, shop, content="Fresh rye today", media_ids=[p["id"] for p in photos]
    )
    gone = await write_post(client, shop, content="A typo")
    assert first.status_code == second.status_code == gone.status_code == 201
    deleted = await client.delete(
        f"/api/v1/businesses/bakery/posts/{gone.json()['id']}", headers=owner(shop)
    )
    assert deleted.status_code == 204
    offer = await client.post(
        "/api/v1/businesses/bakery/offers",
        json={"title": "Two loaves for £5", "price": "5.00", "currency": "GBP"},
        headers=owner(shop),
    )
    event = await client.post(
        "/api/v1/businesses/bakery/events",
        json={"title": "Tasting", "start": "2027-01-09T10:00", "end": "2027-01-09T12:00"},
        headers=owner(shop),
    )
    assert offer.status_code == event.status_code == 201
    business = await businesses.by_username(services_of(client).store, "bakery")
    await followers_from(services_of(client), business, *FOLLOWERS)
    return shop


def identity(client: httpx.AsyncClient, username: str | None = None) -> NewIdentity:
    private_pem, public_pem = generate_rsa_keypair()
    return NewIdentity(
        username=username,
        sealed_private_key=services_of(client).sealed_keys.seal(private_pem),
        public_key_pem=public_pem,
        owner_token_hash=hash_token(TOKEN),
    )


async def export(client: httpx.AsyncClient, destination: Path) -> business_archive.Manifest:
    services = services_of(client)
    return await business_archive.export_business(
        services.store, services.urls, services.media, "bakery", destination
    )


async def do_import(
    client: httpx.AsyncClient, path: Path, username: str | None = None
) -> business_archive.Imported:
    services = services_of(client)
    return await business_archive.import_business(
        services.store,
        services.urls,
        services.media,
        path,
        identity(client, username),
        now=services.now_ms(),
    )


async def posts_of(client: httpx.AsyncClient, username: str, token: str) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/v1/businesses/{username}/posts", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def listed(client: httpx.AsyncClient, path: str) -> list[str]:
    response = await client.get(path, headers=admin_headers())
    return [item["title"] for item in response.json()["items"]]


#: What the profile says that must come over as it was.
PROFILE = (
    "display_name",
    "summary",
    "fields",
    "category",
    "location",
    "timezone",
    "hours",
    "opening_hours",
    "notice",
    "in_directory",
    "manually_approves_followers",
    "discoverable",
    "indexable",
    "posts_count",
)


async def test_a_business_exported_and_imported_elsewhere_is_the_same_business_under_a_new_actor(
    database_url, other_database_url, tmp_path
):
    # Given a bakery with its profile, posts with photos and business data on one instance
    path = tmp_path / "bakery.tar.gz"
    async with instance(database_url, tmp_path / "a", "https://old.example") as old:
        shop = await populate(old)
        manifest = await export(old, path)
        before = (await old.get("/api/v1/businesses/bakery", headers=owner(shop))).json()
        old_posts = await posts_of(old, "bakery", shop["owner_token"])
        old_actor = (
            await old.get("/users/bakery", headers={"Accept": "application/activity+json"})
        ).json()
        old_bytes = {
            m["description"]: (await old.get(m["url"])).content
            for post in old_posts
            for m in post["media"]
        }
        avatar_bytes = (await old.get(before["avatar_url"])).content
    assert manifest.counts == {"posts": 4, "media": 3, "offers": 1, "events": 1, "followers": 2}
    assert path.stat().st_mode & 0o777 == 0o600

    # When it is imported into an empty instance on the other backend
    async with instance(other_database_url, tmp_path / "b", "https://new.example") as new:
        imported = await do_import(new, path)
        assert imported.username == "bakery"
        assert imported.counts == {"posts": 4, "media": 3, "offers": 1, "events": 1}
        headers = {"Authorization": f"Bearer {TOKEN}"}
        after = (await new.get("/api/v1/businesses/bakery", headers=headers)).json()

        # Then its profile, hours, notice and settings are the same
        for key in PROFILE:
            assert after[key] == before[key], key
        # And it is a new actor with new keys and no followers (they come by Move)
        assert after["actor_id"] == "https://new.example/users/bakery"
        assert after["followers_count"] == 0
        new_actor = (
            await new.get("/users/bakery", headers={"Accept": "application/activity+json"})
        ).json()
        assert new_actor["publicKey"]["publicKeyPem"] != old_actor["publicKey"]["publicKeyPem"]
        # And the posts are the same, in the same order, under the new actor's URIs
        new_posts = await posts_of(new, "bakery", TOKEN)
        assert [p["content"] for p in new_posts] == [p["content"] for p in old_posts]
        assert [p["published_at"] for p in new_posts] == [p["published_at"] for p in old_posts]
        assert all(p["uri"].startswith("https://new.example/users/bakery/") for p in new_posts)
        tagged = next(p for p in new_posts if "#autumn" in p["content"])
        assert "https://new.example/@bakery/tagged/autumn" in tagged["content_html"]
        assert "old.example" not in tagged["content_html"]
        # And every image has the same bytes, served from the new instance
        new_bytes = {
            m["description"]: (await new.get(m["url"])).content
            for post in new_posts
            for m in post["media"]
        }
        assert new_bytes == old_bytes and len(new_bytes) == 2
        assert (await new.get(after["avatar_url"])).content == avatar_bytes
        # And the offer and the event came along
        assert await listed(new, "/api/v1/businesses/bakery/offers") == ["Two loaves for £5"]
        assert await listed(new, "/api/v1/businesses/bakery/events") == ["Tasting"]
    # And the archive lists the followers for reference
    with tarfile.open(path) as tar:
        handle = tar.extractfile("followers.jsonl")
        assert handle is not None
        followers = [json.loads(line)["actor"] for line in handle]
    assert sorted(followers) == sorted(FOLLOWERS)


async def test_an_archive_imports_under_another_name_when_its_own_is_taken(database_url, tmp_path):
    # Given an instance with a bakery, exported
    path = tmp_path / "bakery.tar.gz"
    async with instance(database_url, tmp_path / "a", "https://town.example") as town:
        await populate(town)
        await export(town, path)
        files_before = sorted(p.name for p in (tmp_path / "a" / "media").iterdir())

        # When it is imported into the same instance under its own name
        with pytest.raises(Conflict, match="'bakery' is taken"):
            await do_import(town, path)
        # Then nothing was written: no business, no media file
        assert sorted(p.name for p in (tmp_path / "a" / "media").iterdir()) == files_before

        # When it is imported as another name
        imported = await do_import(town, path, "bakery2")

        # Then that is a second business with its own posts and image files
        assert imported.username == "bakery2"
        assert len(await posts_of(town, "bakery2", TOKEN)) == 4
        media = sorted(p.name for p in (tmp_path / "a" / "media").iterdir())
        assert len(media) == len(files_before) + 3


async def test_exporting_a_business_that_does_not_exist_is_not_found(database_url, tmp_path):
    async with instance(database_url, tmp_path / "a", "https://town.example") as town:
        with pytest.raises(NotFound):
            await export(town, tmp_path / "nobody.tar.gz")
    assert not (tmp_path / "nobody.tar.gz").exists()


def rewrite(source: Path, target: Path, change: Callable[[str, bytes], bytes | None]) -> None:
    """Copy an archive, passing each member's bytes through ``change`` (None drops it)."""
    with tarfile.open(source) as old, tarfile.open(target, "w:gz") as new:
        for member in old.getmembers():
            handle = old.extractfile(member)
            assert handle is not None
            data = change(member.name, handle.read())
            if data is None:
                continue
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            new.addfile(info, io.BytesIO(data))


def manifest_with(**changes: Any) -> Callable[[str, bytes], bytes | None]:
    def change(name: str, data: bytes) -> bytes | None:
        if name != "manifest.json":
            return data
        return json.dumps(json.loads(data) | changes).encode()

    return change


def post_without(column: str) -> Callable[[str, bytes], bytes | None]:
    def change(name: str, data: bytes) -> bytes | None:
        if name != "posts.jsonl":
            return data
        rows = [json.loads(line) for line in data.splitlines()]
        rows[-1].pop(column)
        return b"".join(json.dumps(r).encode() + b"\n" for r in rows)

    return change


def cut_last_post(name: str, data: bytes) -> bytes:
    return data[: data.rindex(b"{")] if name == "posts.jsonl" else data


def truncate(source: Path, target: Path) -> None:
    target.write_bytes(source.read_bytes()[: source.stat().st_size // 2])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (truncate, "not a complete business archive"),
        (
            lambda s, t: rewrite(s, t, manifest_with(format="fedi-town-backup")),
            "not a fedi-town business archive",
        ),
        (lambda s, t: rewrite(s, t, manifest_with(version=2)), "version 2"),
        (lambda s, t: rewrite(s, t, manifest_with(schema_version=999)), "newer fedi-town"),
        (
            lambda s, t: rewrite(s, t, lambda n, d: None if n.startswith("media/") else d),
            "media files are not those it lists",
        ),
        (
            lambda s, t: rewrite(s, t, cut_last_post),
            "posts holds 3 rows|missing or garbles",
        ),
        (lambda s, t: rewrite(s, t, post_without("content_source")), "do not fit this database"),
        (lambda s, t: rewrite(s, t, post_without("created_at")), "rows are incomplete"),
    ],
    ids=[
        "truncated",
        "other-format",
        "other-version",
        "newer-schema",
        "no-media",
        "cut",
        "row",
        "no-time",
    ],
)
async def test_an_archive_that_cannot_be_imported_is_refused_and_nothing_is_written(
    database_url, other_database_url, tmp_path, damage, message
):
    # Given an exported bakery, damaged
    path, damaged = tmp_path / "bakery.tar.gz", tmp_path / "damaged.tar.gz"
    async with instance(database_url, tmp_path / "a", "https://old.example") as old:
        await populate(old)
        await export(old, path)
    damage(path, damaged)

    # When it is imported into an empty instance
    async with instance(other_database_url, tmp_path / "b", "https://new.example") as new:
        with pytest.raises(BusinessArchiveError, match=message):
            await do_import(new, damaged)
        # Then no business and no media file was written
        assert await businesses.list_all(services_of(new).store, include_deleted=True) == []
        media = tmp_path / "b" / "media"
        assert not media.exists() or list(media.iterdir()) == []


async def test_a_whole_instance_backup_is_not_taken_for_a_business_archive(database_url, tmp_path):
    # Given a backup of a whole instance
    async with instance(database_url, tmp_path / "a", "https://town.example") as town:
        await populate(town)
        path = tmp_path / "backup.tar.gz"
        store = services_of(town).store
        await archive.backup(store, services_of(town).media, path)

        # When it is imported as a business, it is refused, naming the right command
        with pytest.raises(BusinessArchiveError, match="unexpected entry"):
            await do_import(town, path, "other")


def post_html(html: str) -> Callable[[str, bytes], bytes | None]:
    def change(name: str, data: bytes) -> bytes | None:
        if name != "posts.jsonl":
            return data
        rows = [json.loads(line) for line in data.splitlines()]
        for row in rows:
            row["content_html"] = html
        return b"".join(json.dumps(r).encode() + b"\n" for r in rows)

    return change


async def test_the_html_of_imported_posts_is_sanitised(database_url, other_database_url, tmp_path):
    # Given an archive whose posts carry a script (a file from elsewhere)
    path, hostile = tmp_path / "bakery.tar.gz", tmp_path / "hostile.tar.gz"
    async with instance(database_url, tmp_path / "a", "https://old.example") as old:
        await populate(old)
        await export(old, path)
    rewrite(
        path, hostile, post_html('<p>Rye<script>alert(1)</script><a href="javascript:x">x</a></p>')
    )
    # When it is imported
    async with instance(other_database_url, tmp_path / "b", "https://new.example") as new:
        await do_import(new, hostile)
        # Then the posts keep their text and lose the script and the javascript: link
        for post in await posts_of(new, "bakery", TOKEN):
            assert "Rye" in post["content_html"]
            assert "<script" not in post["content_html"]
            assert "javascript:" not in post["content_html"]
