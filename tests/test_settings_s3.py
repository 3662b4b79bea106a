"""The media storage settings: local by default; S3 needs its bucket and key, says which
is missing, and never shows the secret."""

from __future__ import annotations

import pytest

from fedi_town.errors import ConfigError
from fedi_town.settings import Settings

S3 = {
    "FEDI_TOWN_MEDIA_STORAGE": "s3",
    "FEDI_TOWN_S3_ENDPOINT": "https://s3.fr-par.scw.cloud/",
    "FEDI_TOWN_S3_BUCKET": "town-media",
    "FEDI_TOWN_S3_REGION": "fr-par",
    "FEDI_TOWN_S3_ACCESS_KEY_ID": "SCWXXXXXXXXXXXXXXXXX",
    "FEDI_TOWN_S3_SECRET_ACCESS_KEY": "a-secret-value-0123456789",
}


def test_media_is_kept_in_the_local_folder_unless_s3_is_chosen():
    assert Settings.from_env({}).media_storage == "local"


def test_a_complete_s3_configuration_loads_with_the_endpoint_trimmed():
    settings = Settings.from_env(S3 | {"FEDI_TOWN_S3_PUBLIC_URL": "https://media.town.example/"})
    assert settings.media_storage == "s3"
    assert settings.s3_endpoint == "https://s3.fr-par.scw.cloud"
    assert settings.s3_public_url == "https://media.town.example"
    assert (settings.s3_bucket, settings.s3_region) == ("town-media", "fr-par")


@pytest.mark.parametrize("missing", ["S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"])
def test_an_incomplete_s3_configuration_names_the_missing_variable(missing):
    environ = {k: v for k, v in S3.items() if k != f"FEDI_TOWN_{missing}"}
    with pytest.raises(ConfigError, match=f"FEDI_TOWN_{missing} is required"):
        Settings.from_env(environ)


def test_an_unknown_storage_or_a_bad_endpoint_names_the_variable():
    with pytest.raises(ConfigError, match="FEDI_TOWN_MEDIA_STORAGE must be local or s3"):
        Settings.from_env({"FEDI_TOWN_MEDIA_STORAGE": "ftp"})
    with pytest.raises(ConfigError, match="FEDI_TOWN_S3_ENDPOINT must be an http"):
        Settings.from_env(S3 | {"FEDI_TOWN_S3_ENDPOINT": "s3.example"})
    with pytest.raises(ConfigError, match="FEDI_TOWN_S3_PUBLIC_URL must be scheme"):
        Settings.from_env(S3 | {"FEDI_TOWN_S3_PUBLIC_URL": "https://cdn.example/?sig=1"})


def test_the_secret_is_not_in_the_settings_repr():
    assert "a-secret-value" not in repr(Settings.from_env(S3))
