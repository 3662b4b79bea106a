"""Two web servers on different ports (as on two machines), one PostgreSQL database and one
bucket: what one stores, the other serves and deletes (tests/live.py, tests/s3.py)."""

from __future__ import annotations

import pytest

from tests.live import live_instance
from tests.media.conftest import image_bytes
from tests.outbound.conftest import owner, upload

# Several web processes share one database only on PostgreSQL (SQLite is one machine's).
pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


async def test_a_photo_uploaded_through_one_server_is_served_and_deleted_by_the_other(
    database_url, tmp_path, s3_settings, s3_objects
):
    # Given two web servers sharing the database and the bucket, each with its own folder
    async with (
        live_instance(database_url, tmp_path / "a", **s3_settings) as a,
        live_instance(database_url, tmp_path / "b", **s3_settings) as b,
    ):
        shop = await a.create_business("bakery")
        # When a photo is uploaded through server A
        uploaded = await upload(a.client, shop, image_bytes(), description="Rye")
        assert uploaded.status_code == 201, uploaded.text
        media = uploaded.json()
        name = media["url"].rsplit("/", 1)[1]
        # Then server B serves it, byte for byte what the bucket holds
        served = await b.client.get(f"/media/{name}")
        assert served.status_code == 200
        assert served.content == s3_objects()[name]
        assert served.headers["content-type"] == "image/jpeg"
        # And when server B deletes it, server A no longer serves it and the bucket is empty
        deleted = await b.client.delete(
            f"/api/v1/businesses/bakery/media/{media['id']}", headers=owner(shop)
        )
        assert deleted.status_code == 204
        assert (await a.client.get(f"/media/{name}")).status_code == 404
        assert s3_objects() == {}
    # And neither server wrote a media folder of its own
    assert not (tmp_path / "a" / "media").exists() and not (tmp_path / "b" / "media").exists()
