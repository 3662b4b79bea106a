"""``fedi-town doctor`` with media in a bucket: a probe object written, read back and
deleted; a bucket that fails says which and what to fix, never the secret."""

from __future__ import annotations

from typing import Any

import pytest

from fedi_town import doctor
from fedi_town.services import media_store
from tests.conftest import make_settings
from tests.s3 import SECRET_ACCESS_KEY
from tests.test_doctor import environ_of

pytestmark = pytest.mark.anyio


async def test_a_working_bucket_passes_and_keeps_no_probe_object(tmp_path, s3_settings, s3_objects):
    # Given settings naming a bucket that works
    media = media_store(make_settings("sqlite:///unused", tmp_path, **s3_settings))
    # When the doctor probes it
    check = await doctor.media_bucket(media, wait_s=5)
    # Then it passes, naming the bucket, and left nothing in it
    assert not check.failed, check.message
    assert s3_settings["s3_bucket"] in check.message
    assert s3_objects() == {}


async def test_an_unreachable_bucket_fails_saying_what_to_check_without_the_secret(
    tmp_path, unreachable_s3
):
    media = media_store(make_settings("sqlite:///unused", tmp_path, **unreachable_s3))
    check = await doctor.media_bucket(media, wait_s=5)
    assert check.failed
    assert "cannot write to the bucket gone at http://127.0.0.1:" in check.message
    assert "S3 settings" in check.message
    assert SECRET_ACCESS_KEY not in check.message


def s3_environ(tmp_path: Any, overrides: dict[str, Any]) -> dict[str, str]:
    settings = make_settings(f"sqlite:///{tmp_path / 'town.sqlite3'}", tmp_path, **overrides)
    names = {
        "media_storage": "MEDIA_STORAGE",
        "s3_endpoint": "S3_ENDPOINT",
        "s3_bucket": "S3_BUCKET",
        "s3_region": "S3_REGION",
        "s3_access_key_id": "S3_ACCESS_KEY_ID",
        "s3_secret_access_key": "S3_SECRET_ACCESS_KEY",
    }
    return environ_of(settings) | {f"FEDI_TOWN_{names[k]}": str(v) for k, v in overrides.items()}


async def test_the_doctor_run_checks_the_bucket_instead_of_the_folder(tmp_path, unreachable_s3):
    # Given an instance configured for a bucket that does not answer
    environ = s3_environ(tmp_path, unreachable_s3)
    # When the doctor runs
    checks = await doctor.run(environ, wait_s=2)
    # Then its media line is the bucket's, failed, and no line shows the secret
    media = next(c for c in checks if c.name == "media")
    assert media.failed and "the bucket gone" in media.message
    assert all(SECRET_ACCESS_KEY not in c.message for c in checks)


def test_an_incomplete_s3_setting_names_the_missing_variable():
    check, settings = doctor.load_settings(
        {"FEDI_TOWN_MEDIA_STORAGE": "s3", "FEDI_TOWN_S3_BUCKET": "media"}
    )
    assert settings is None and check.failed
    assert check.message == (
        "FEDI_TOWN_S3_ACCESS_KEY_ID is required when FEDI_TOWN_MEDIA_STORAGE=s3"
    )
