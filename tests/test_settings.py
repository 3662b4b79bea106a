"""Settings: read once, validated, every bad value names its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedi_town.errors import ConfigError
from fedi_town.settings import Settings, default_sign_threads


def test_defaults_serve_a_local_sqlite_instance():
    settings = Settings.from_env({})
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.allow_private_addresses is False
    assert settings.media_dir == Path("data/media")


def test_values_are_read_from_the_environment():
    settings = Settings.from_env(
        {
            "FEDI_TOWN_BASE_URL": "https://Town.Example/",
            "FEDI_TOWN_DATABASE_URL": "postgres://u@h/db",
            "FEDI_TOWN_PORT": "9000",
            "FEDI_TOWN_ALLOW_PRIVATE_ADDRESSES": "yes",
            "FEDI_TOWN_ADMIN_TOKEN": "x" * 20,
        }
    )
    assert settings.base_url == "https://town.example"
    assert settings.domain == "town.example"
    assert settings.database_url == "postgresql://u@h/db"
    assert settings.port == 9000
    assert settings.allow_private_addresses is True


def test_the_home_timeline_is_kept_30_days_unless_told():
    assert Settings.from_env({}).timeline_days == 30
    assert Settings.from_env({"FEDI_TOWN_TIMELINE_DAYS": "7"}).timeline_days == 7


def test_the_domain_keeps_the_port():
    settings = Settings.from_env({"FEDI_TOWN_BASE_URL": "http://127.0.0.1:8000"})
    assert settings.domain == "127.0.0.1:8000"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("FEDI_TOWN_PORT", "eighty"),
        ("FEDI_TOWN_PORT", "70000"),
        ("FEDI_TOWN_BASE_URL", "town.example"),
        ("FEDI_TOWN_BASE_URL", "https://town.example/sub"),
        ("FEDI_TOWN_BASE_URL", "http://town.example"),
        ("FEDI_TOWN_DATABASE_URL", "mysql://x"),
        ("FEDI_TOWN_ALLOW_PRIVATE_ADDRESSES", "maybe"),
        ("FEDI_TOWN_ADMIN_TOKEN", "short"),
        ("FEDI_TOWN_WORKER", "threads"),
        ("FEDI_TOWN_LOG_LEVEL", "verbose"),
        ("FEDI_TOWN_LOG_FORMAT", "xml"),
        ("FEDI_TOWN_ACCESS_LOG", "sometimes"),
        ("FEDI_TOWN_METRICS_TOKEN", "short"),
        ("FEDI_TOWN_WEB_WORKERS", "0"),
        ("FEDI_TOWN_WEB_WORKERS", "many"),
        ("FEDI_TOWN_SIGN_THREADS", "-1"),
        ("FEDI_TOWN_SIGN_THREADS", "all"),
        ("FEDI_TOWN_TIMELINE_DAYS", "0"),
        ("FEDI_TOWN_TIMELINE_DAYS", "a month"),
        ("FEDI_TOWN_NO_SUCH_SETTING", "1"),
    ],
)
def test_a_bad_value_names_its_key(key, value):
    with pytest.raises(ConfigError) as error:
        Settings.from_env({key: value})
    assert key in str(error.value)
    if key in ("FEDI_TOWN_ADMIN_TOKEN", "FEDI_TOWN_METRICS_TOKEN"):
        assert value not in str(error.value)


def test_a_bad_log_level_is_told_with_the_value_given_and_the_ones_allowed():
    with pytest.raises(ConfigError) as error:
        Settings.from_env({"FEDI_TOWN_LOG_LEVEL": "verbose"})
    assert str(error.value) == (
        "FEDI_TOWN_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got 'verbose'"
    )


def test_logs_are_plain_lines_without_a_line_per_request_unless_asked():
    # Given no log settings, then plain lines and no access log (the proxy logs requests)
    default = Settings.from_env({})
    assert (default.log_format, default.access_log) == ("plain", False)
    # When JSON lines and the access log are asked for (any case), then that is what is set
    asked = Settings.from_env(
        {
            "FEDI_TOWN_LOG_FORMAT": "JSON",
            "FEDI_TOWN_ACCESS_LOG": "on",
            "FEDI_TOWN_LOG_LEVEL": "debug",
        }
    )
    assert (asked.log_format, asked.access_log, asked.log_level) == ("json", True, "DEBUG")


def test_the_admin_token_is_not_in_the_repr():
    settings = Settings.from_env({"FEDI_TOWN_ADMIN_TOKEN": "secret-secret-secret"})
    assert "secret-secret" not in repr(settings)


def test_the_default_time_zone_is_an_iana_name_checked_at_start():
    assert Settings.from_env({}).timezone == "UTC"
    assert Settings.from_env({"FEDI_TOWN_TIMEZONE": "Europe/Berlin"}).timezone == "Europe/Berlin"
    with pytest.raises(ConfigError, match="FEDI_TOWN_TIMEZONE"):
        Settings.from_env({"FEDI_TOWN_TIMEZONE": "Mars/Olympus_Mons"})


def test_web_workers_default_to_one_and_are_read_on_either_backend():
    # Given no setting, then 4 on PostgreSQL and 2 on SQLite
    postgres = {"FEDI_TOWN_DATABASE_URL": "postgresql://u@h/db", "FEDI_TOWN_WEB_WORKERS": "4"}
    sqlite = {"FEDI_TOWN_WEB_WORKERS": "2"}
    # Then one process by default; the value is kept on both (serve refuses it on SQLite,
    # backup and copy-database still run with the same environment file)
    assert Settings.from_env({}).web_workers == 1
    assert Settings.from_env(postgres).web_workers == 4
    assert Settings.from_env(sqlite).web_workers == 2


def test_sign_threads_follow_the_cpus_unless_set():
    # Given a machine's CPU count, the default is one thread per CPU, at most 4, none on one
    assert [default_sign_threads(n) for n in (1, 2, 3, 8)] == [0, 2, 3, 4]
    # And unset, the setting takes that default for this machine
    assert Settings.from_env({}).sign_threads == default_sign_threads()
    # When it is set, 0 included (sign on the event loop), the value is kept
    assert Settings.from_env({"FEDI_TOWN_SIGN_THREADS": "0"}).sign_threads == 0
    assert Settings.from_env({"FEDI_TOWN_SIGN_THREADS": " 6 "}).sign_threads == 6
    # And an empty value (the commented env example filled in blank) is the default
    assert Settings.from_env({"FEDI_TOWN_SIGN_THREADS": ""}).sign_threads == default_sign_threads()
