"""Backups and restores with media in a bucket (tests/s3.py): a backup from S3 holds the
objects; a restore puts the media into whichever store the target has, so SQLite and a
folder can move to PostgreSQL and a bucket, and back."""

from __future__ import annotations

import secrets
import tarfile
from pathlib import Path
from typing import Any

import pytest

from fedi_town.media.storage import LocalMediaStore
from fedi_town.protocol.keys import generate_rsa_keypair
from fedi_town.services import Services, media_store
from fedi_town.store import archive, business_archive
from fedi_town.store.business_archive import NewIdentity
from tests.conftest import _app_client, make_settings
from tests.live import LiveInstance, live_instance
from tests.media.conftest import image_bytes
from tests.outbound.conftest import upload, write_post
from tests.s3 import bucket_settings, client
from tests.store.test_archive import RING, migrated

pytestmark = pytest.mark.anyio


async def photos_posted(live: LiveInstance) -> list[str]:
    """A business with a post of two photos; the photos' names."""
    shop = await live.create_business("bakery")
    photos = [
        (await upload(live.client, shop, image_bytes(color=c))).json()
        for c in ((200, 90, 20), (20, 90, 200))
    ]
    post = await write_post(live.client, shop, content="Rye", media_ids=[p["id"] for p in photos])
    assert post.status_code == 201, post.text
    return sorted(p["url"].rsplit("/", 1)[1] for p in photos)


def archived_media(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {
            m.name.removeprefix("media/"): tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.name.startswith("media/")
        }


def new_bucket(s3_server: str, name: str) -> dict[str, Any]:
    client(s3_server).create_bucket(Bucket=name)
    return bucket_settings(s3_server, name)


async def test_a_folder_instance_restores_into_another_database_with_a_bucket(
    database_url, other_database_url, tmp_path, s3_server
):
    # Given an instance keeping its photos in a folder, backed up
    destination = tmp_path / "backup.tar.gz"
    async with live_instance(database_url, tmp_path / "a") as live:
        names = await photos_posted(live)
        manifest = await archive.backup(live.store, live.services.media, destination)
        base_url = live.settings.base_url
    assert manifest.media_files == 2
    # When it is restored on the other database backend configured for a bucket
    bucket_name = f"restored-{secrets.token_hex(6)}"
    bucket = new_bucket(s3_server, bucket_name)
    settings = make_settings(other_database_url, tmp_path / "b", base_url=base_url, **bucket)
    async with migrated(other_database_url) as target:
        await archive.restore(target, media_store(settings), destination, RING)
    # Then the bucket holds the photos, and the restored instance serves them from it
    assert (
        sorted(k["Key"] for k in client(s3_server).list_objects_v2(Bucket=bucket_name)["Contents"])
        == names
    )
    originals = archived_media(destination)
    async with _app_client(Services.from_settings(settings)) as served:
        for name in names:
            response = await served.get(f"/media/{name}")
            assert response.status_code == 200 and response.content == originals[name]
    assert not (tmp_path / "b" / "media").exists()


async def test_a_bucket_instance_backs_up_its_objects_and_restores_into_a_folder(
    database_url, other_database_url, tmp_path, s3_settings, s3_objects
):
    # Given an instance keeping its photos in a bucket
    destination = tmp_path / "backup.tar.gz"
    async with live_instance(database_url, tmp_path / "a", **s3_settings) as live:
        names = await photos_posted(live)
        # When it is backed up
        manifest = await archive.backup(live.store, live.services.media, destination)
    # Then the archive holds every object, byte for byte
    stored = s3_objects()
    assert sorted(stored) == names and manifest.missing_media == []
    assert archived_media(destination) == stored
    # And restored on the other backend with a folder, the files are those objects
    folder = LocalMediaStore(tmp_path / "b" / "media")
    async with migrated(other_database_url) as target:
        restored = await archive.restore(target, folder, destination, RING)
    assert restored.media_files == 2
    for name in names:
        assert (tmp_path / "b" / "media" / name).read_bytes() == stored[name]


async def test_a_business_exported_from_a_folder_is_imported_into_a_bucket(
    database_url, other_database_url, tmp_path, s3_settings, s3_objects
):
    # Given a business on an instance keeping its photos in a folder, exported
    destination = tmp_path / "bakery.tar.gz"
    async with live_instance(database_url, tmp_path / "a") as live:
        names = await photos_posted(live)
        folder_bytes = {n: (tmp_path / "a" / "media" / n).read_bytes() for n in names}
        manifest = await business_archive.export_business(
            live.store, live.urls, live.services.media, "bakery", destination
        )
    assert manifest.media_files == 2
    # When it is imported into an instance on the other backend keeping media in a bucket
    async with live_instance(other_database_url, tmp_path / "b", **s3_settings) as live:
        private_pem, public_pem = generate_rsa_keypair()
        imported = await business_archive.import_business(
            live.store,
            live.urls,
            live.services.media,
            destination,
            NewIdentity(
                username=None,
                sealed_private_key=live.services.sealed_keys.seal(private_pem),
                public_key_pem=public_pem,
                owner_token_hash="0" * 64,
            ),
            now=live.services.now_ms(),
        )
        # Then the photos are objects in the bucket (under new names), byte for byte,
        # and the new instance serves them from there
        stored = s3_objects()
        assert imported.counts["media"] == 2 and len(stored) == 2
        assert sorted(stored.values()) == sorted(folder_bytes.values())
        for name, data in stored.items():
            response = await live.client.get(f"/media/{name}")
            assert response.status_code == 200 and response.content == data
    assert not (tmp_path / "b" / "media").exists()
