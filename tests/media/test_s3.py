"""The bucket backend's own promises: the library loaded only when used, what an unreachable
or refused bucket says (never the secret), objects carrying their media type."""

from __future__ import annotations

import logging
import subprocess
import sys
from typing import Any

import boto3
import pytest

from fedi_town.media.s3 import S3MediaStore
from fedi_town.media.storage import MediaUnavailable
from fedi_town.services import media_store
from tests.conftest import make_settings
from tests.s3 import SECRET_ACCESS_KEY, client

pytestmark = pytest.mark.anyio


def store_of(tmp_path: Any, **overrides: Any) -> S3MediaStore:
    made = media_store(make_settings("sqlite:///unused", tmp_path, **overrides))
    assert isinstance(made, S3MediaStore)
    return made


def test_the_s3_library_is_not_loaded_until_a_bucket_is_used():
    # Given a fresh interpreter that builds the web app and a store configured for S3
    code = (
        "import sys\n"
        "import fedi_town.app\n"
        "from fedi_town.services import media_store\n"
        "from fedi_town.settings import Settings\n"
        "media_store(Settings(media_storage='s3', s3_bucket='b', s3_access_key_id='k',"
        " s3_secret_access_key='s'))\n"
        "print('obstore' in sys.modules)\n"
    )
    # When it has run
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # Then obstore was never imported
    assert out.stdout.strip() == "False"


async def test_an_object_carries_the_media_type_it_was_stored_with(tmp_path, s3_settings):
    # Given an image stored in the bucket
    store = store_of(tmp_path, **s3_settings)
    await store.put("x.webp", b"RIFF", "image/webp")
    # When another client looks at it
    head = client(s3_settings["s3_endpoint"]).head_object(
        Bucket=s3_settings["s3_bucket"], Key="x.webp"
    )
    # Then the bucket serves it as that type (what a public bucket URL answers with)
    assert head["ContentType"] == "image/webp"


async def test_an_unreachable_bucket_is_a_503_naming_it_without_the_secret(
    tmp_path, unreachable_s3, caplog
):
    # Given a bucket at an endpoint where nothing listens
    store = store_of(tmp_path, **unreachable_s3)
    caplog.set_level(logging.DEBUG)
    # When an object is written, read and deleted
    for attempt in (
        store.put("x.png", b"x", "image/png"),
        store.get("x.png"),
        store.delete("x.png"),
    ):
        with pytest.raises(MediaUnavailable) as raised:
            await attempt
        # Then each is a 503 saying which bucket and that it did not answer
        assert raised.value.status == 503
        assert "the bucket gone at http://127.0.0.1:" in raised.value.detail
        assert "no answer" in raised.value.detail
        assert SECRET_ACCESS_KEY not in raised.value.detail
    # And the secret is in no log line either
    assert SECRET_ACCESS_KEY not in caplog.text


async def test_a_missing_bucket_says_so(tmp_path, s3_server):
    from tests.s3 import bucket_settings

    store = store_of(tmp_path, **bucket_settings(s3_server, "never-made"))
    with pytest.raises(MediaUnavailable, match="the bucket does not exist"):
        await store.put("x.png", b"x", "image/png")


def test_the_store_repr_shows_no_secret(tmp_path, s3_settings):
    assert SECRET_ACCESS_KEY not in repr(store_of(tmp_path, **s3_settings))
    assert boto3  # the other client, used by tests/s3.py
