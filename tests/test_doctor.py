"""``fedi-town doctor``: each check alone catches the misconfiguration it claims to, and a
good live instance passes every check (both backends)."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fedi_town import doctor
from fedi_town.api.businesses import create_business
from fedi_town.protocol.sealed import new_key
from fedi_town.remote.probe import Probe
from fedi_town.settings import Settings
from fedi_town.store.db import Store
from tests.conftest import KEY_ENCRYPTION_KEY, make_settings
from tests.live import bind_loopback, live_instance
from tests.remote.test_probe import answering, server

NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)


def environ_of(settings: Settings) -> dict[str, str]:
    """The FEDI_TOWN_* variables that give ``settings``."""
    return {
        "FEDI_TOWN_BASE_URL": settings.base_url,
        "FEDI_TOWN_DATABASE_URL": settings.database_url,
        "FEDI_TOWN_ADMIN_TOKEN": settings.admin_token,
        "FEDI_TOWN_KEY_ENCRYPTION_KEYS": ",".join(settings.key_encryption_keys),
        "FEDI_TOWN_MEDIA_DIR": str(settings.media_dir),
        "FEDI_TOWN_ALLOW_PRIVATE_ADDRESSES": str(settings.allow_private_addresses).lower(),
        "FEDI_TOWN_HOST": settings.host,
        "FEDI_TOWN_PORT": str(settings.port),
    }


def private(path: Path) -> Path:
    """``path`` made readable and writable by its owner only, as UMask=0077 makes it."""
    path.chmod(0o700 if path.is_dir() else 0o600)
    return path


def closed_port() -> int:
    sock = bind_loopback()
    port: int = sock.getsockname()[1]
    sock.close()
    return port


# settings and database


def test_a_bad_setting_fails_naming_its_variable():
    check, settings = doctor.load_settings({"FEDI_TOWN_PORT": "eighty"})
    assert check.failed and settings is None
    assert check.message.startswith("FEDI_TOWN_PORT must be a whole number")


@pytest.mark.anyio
async def test_a_missing_sqlite_file_is_reported_and_not_created(tmp_path: Path):
    # Given a SQLite URL whose file does not exist
    store = Store(f"sqlite:///{tmp_path / 'none.sqlite3'}")
    # When the database is checked
    check = await doctor.database(store)
    # Then it fails pointing to migrate, and no file was made
    assert check.failed and "run `fedi-town migrate`" in check.message
    assert not (tmp_path / "none.sqlite3").exists()


@pytest.mark.anyio
async def test_an_unreachable_postgresql_fails_without_showing_its_password():
    # Given a PostgreSQL URL with a password on a port nothing listens on
    store = Store(f"postgresql://fedi:hunter2secret@127.0.0.1:{closed_port()}/town")
    # When the database is checked
    check = await doctor.database(store, wait_s=5)
    # Then it fails naming the setting, with the password hidden
    assert check.failed and "FEDI_TOWN_DATABASE_URL" in check.message
    assert "hunter2secret" not in check.message and "fedi:***@" in check.message


@pytest.mark.anyio
async def test_pending_migrations_fail_pointing_to_migrate(store: Store):
    # Given a database missing its last migration's record
    await store.execute(
        "DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM "
        "(SELECT version FROM schema_migrations) AS v)"
    )
    # When the migrations are checked
    check = await doctor.migrations(store)
    # Then one is pending and the fix is named
    assert check.failed and check.message.startswith("1 pending")
    assert "run `fedi-town migrate`" in check.message


@pytest.mark.anyio
async def test_a_migrated_database_passes(store: Store):
    assert not (await doctor.migrations(store)).failed


# keys


@pytest.mark.anyio
async def test_a_missing_key_encryption_key_fails_naming_the_setting(services, store, settings):
    # Given a business whose key is sealed
    await create_business(services, {"username": "bakery", "display_name": "Bakery"})
    # When the keys are checked without a key encryption key
    check = await doctor.stored_keys(store, dataclasses.replace(settings, key_encryption_keys=()))
    # Then it fails naming the setting and the command that makes one
    assert check.failed
    assert "FEDI_TOWN_KEY_ENCRYPTION_KEYS is not set" in check.message
    assert "fedi-town new-key-encryption-key" in check.message


@pytest.mark.anyio
async def test_a_wrong_key_encryption_key_fails_without_showing_a_key(services, store, settings):
    # Given a business whose key is sealed with the test key
    await create_business(services, {"username": "bakery", "display_name": "Bakery"})
    other = new_key()
    # When the keys are checked with another key
    check = await doctor.stored_keys(
        store, dataclasses.replace(settings, key_encryption_keys=(other,))
    )
    # Then it fails naming the setting, showing neither key
    assert check.failed and "does not open the stored private keys" in check.message
    assert other not in check.message and KEY_ENCRYPTION_KEY not in check.message


def test_before_migrating_only_the_key_setting_is_checked(settings):
    missing = doctor.key_setting(dataclasses.replace(settings, key_encryption_keys=()))
    assert missing.failed and "FEDI_TOWN_KEY_ENCRYPTION_KEYS is not set" in missing.message
    assert doctor.key_setting(settings).status == "skip"


@pytest.mark.anyio
async def test_the_right_key_opens_every_stored_key(services, store, settings):
    await create_business(services, {"username": "bakery", "display_name": "Bakery"})
    check = await doctor.stored_keys(store, settings)
    assert not check.failed and "opens all 1 stored private key(s)" in check.message


# files


def test_a_missing_media_folder_passes_when_it_can_be_made_at_the_first_upload(tmp_path: Path):
    check = doctor.media_dir(tmp_path / "data" / "media")
    assert check.status == "pass" and "made at the first upload" in check.message


def test_a_media_folder_that_is_a_file_fails(tmp_path: Path):
    (tmp_path / "media").write_text("")
    check = doctor.media_dir(tmp_path / "media")
    assert check.failed and "is not a folder" in check.message


def test_a_world_readable_media_folder_fails(tmp_path: Path):
    # Given a media folder made with the default umask (0755)
    media = tmp_path / "media"
    media.mkdir(mode=0o755)
    media.chmod(0o755)
    # When it is checked
    check = doctor.media_dir(media)
    # Then it fails with the mode and the chmod that fixes it
    assert check.failed and "mode 0755" in check.message
    assert f"chmod o-rwx {media}" in check.message
    assert not doctor.media_dir(private(media)).failed


@contextmanager
def as_user(uid: int) -> Iterator[None]:
    """Run the block with ``uid`` as the effective user (the tests run as root)."""
    os.seteuid(uid)
    try:
        yield
    finally:
        os.seteuid(0)


def test_a_media_folder_this_user_cannot_write_or_make_fails_naming_the_user():
    # Given a private media folder owned by root, and another one not made yet
    assert os.geteuid() == 0, "the tests run as root, which may write anywhere"
    with tempfile.TemporaryDirectory() as top:
        Path(top).chmod(0o711)
        media = Path(top) / "media"
        media.mkdir(mode=0o750)
        # When nobody checks them
        with as_user(65534):
            existing = doctor.media_dir(media)
            missing = doctor.media_dir(Path(top) / "other")
    # Then both fail naming the user and the command that fixes it
    assert existing.failed and "is not writable by nobody" in existing.message
    assert f"chown -R nobody {media}" in existing.message
    assert missing.failed and "nobody cannot make it" in missing.message
    assert f"install -d -m 700 -o nobody {top}/other" in missing.message


@pytest.mark.anyio
async def test_a_world_readable_sqlite_file_fails_and_0600_passes(tmp_path: Path):
    # Given a SQLite file created with the default umask
    path = tmp_path / "town.sqlite3"
    path.write_bytes(b"")
    path.chmod(0o644)
    settings = make_settings(f"sqlite:///{path}", tmp_path)
    # When it is checked, then again after chmod 600
    before = doctor.sqlite_file(settings)
    after = doctor.sqlite_file(
        dataclasses.replace(settings, database_url=f"sqlite:///{private(path)}")
    )
    # Then the first fails with the fix and the second passes
    assert before.failed and f"chmod 600 {path}" in before.message
    assert after.status == "pass" and "mode 0600" in after.message


def test_the_sqlite_file_check_is_skipped_on_postgresql(tmp_path: Path):
    settings = make_settings("postgresql://postgres@127.0.0.1/test", tmp_path)
    assert doctor.sqlite_file(settings).status == "skip"


def test_several_web_workers_on_sqlite_fail_naming_the_setting_and_pass_on_postgresql(
    tmp_path: Path,
):
    # Given FEDI_TOWN_WEB_WORKERS=2 on SQLite, then on PostgreSQL, then 1 on SQLite
    sqlite = make_settings(f"sqlite:///{tmp_path / 'town.sqlite3'}", tmp_path, web_workers=2)
    postgres = make_settings("postgresql://postgres@127.0.0.1/test", tmp_path, web_workers=2)
    single = dataclasses.replace(sqlite, web_workers=1)
    # When each is checked
    checks = [doctor.web_workers(s) for s in (sqlite, postgres, single)]
    # Then only the first fails, naming the setting and both ways out
    assert [c.status for c in checks] == ["fail", "pass", "pass"]
    assert "FEDI_TOWN_WEB_WORKERS=2" in checks[0].message
    assert "copy-database" in checks[0].message


# URLs and clock


def test_an_http_base_url_for_a_public_host_fails_and_https_passes(tmp_path: Path):
    settings = make_settings("sqlite:///x", tmp_path, base_url="http://town.example")
    check = doctor.base_url(settings)
    assert check.failed and "FEDI_TOWN_BASE_URL=https://town.example" in check.message
    assert not doctor.base_url(
        dataclasses.replace(settings, base_url="https://town.example")
    ).failed
    assert not doctor.base_url(
        dataclasses.replace(settings, base_url="http://127.0.0.1:8000")
    ).failed


@pytest.mark.anyio
async def test_an_unreachable_own_url_fails_saying_what_to_start(tmp_path: Path):
    # Given a base URL nothing answers on
    settings = make_settings("sqlite:///x", tmp_path, base_url=f"http://127.0.0.1:{closed_port()}")
    # When the own URL is checked
    answer = await doctor.probing.get(doctor.nodeinfo_url(settings))
    check = doctor.own_url(settings, answer)
    # Then it fails: refused, with the service and the proxy to look at
    assert check.failed and "connection refused" in check.message
    assert "fedi-town serve" in check.message and "reverse proxy" in check.message


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "body", "content_type", "words"),
    [
        (502, b"Bad Gateway", "text/html", "the proxy cannot reach fedi-town"),
        (404, b"<h1>Welcome to nginx</h1>", "text/html", "must forward every path"),
        (302, b"", "text/html", "redirects to https://elsewhere.example/"),
        (
            200,
            b'{"links": [{"href": "https://other.example/nodeinfo/2.1"}]}',
            "application/json",
            "links to https://other.example",
        ),
    ],
)
async def test_a_misconfigured_proxy_is_explained(tmp_path, status, body, content_type, words):
    # Given a "proxy" at the base URL answering wrongly
    async with server(answering(status, body, content_type)) as base:
        settings = make_settings("sqlite:///x", tmp_path, base_url=base)
        # When the own URL is checked
        check = doctor.own_url(settings, await doctor.probing.get(doctor.nodeinfo_url(settings)))
    # Then it fails explaining what the proxy does wrong
    assert check.failed and words in check.message


def test_a_clock_far_from_the_instance_date_fails():
    answer = Probe(url="https://town.example/.well-known/nodeinfo", status=200, date=NOW)
    check = doctor.clock(answer, NOW + timedelta(hours=2))
    assert check.failed and "7200 s ahead of" in check.message
    assert "timedatectl set-ntp true" in check.message
    assert doctor.clock(answer, NOW + timedelta(seconds=2)).status == "pass"


def test_an_unset_clock_fails_and_no_date_skips_the_comparison():
    answer = Probe(url="https://town.example/.well-known/nodeinfo", error="connection refused")
    assert doctor.clock(answer, datetime(2000, 1, 1, tzinfo=UTC)).failed
    skipped = doctor.clock(answer, NOW)
    assert skipped.status == "skip" and "it did not answer" in skipped.message


def test_a_missing_admin_token_fails_naming_the_setting(tmp_path: Path):
    settings = make_settings("sqlite:///x", tmp_path, admin_token="")
    check = doctor.admin_token(settings)
    assert check.failed and "FEDI_TOWN_ADMIN_TOKEN is not set" in check.message


# the whole run


@pytest.mark.anyio
async def test_a_good_live_instance_passes_every_check(database_url: str, tmp_path: Path):
    # Given a running instance with a business, its files private as the service makes them
    async with live_instance(database_url, tmp_path) as live:
        await live.create_business("bakery")
        live.settings.media_dir.mkdir(mode=0o700)
        if live.store.path is not None:
            private(live.store.path)
        # When the doctor runs with its settings
        checks = await doctor.run(environ_of(live.settings))
    # Then every check passes (PostgreSQL has no SQLite file to check)
    lines = [check.line() for check in checks]
    assert [c for c in checks if c.failed] == [], lines
    assert {c.name for c in checks if c.status == "pass"} >= {
        "settings",
        "database",
        "migrations",
        "keys",
        "media",
        "base URL",
        "own URL",
        "clock",
        "admin token",
    }
    assert all(line.startswith(("✓", "–")) for line in lines)


@pytest.mark.anyio
async def test_a_broken_database_skips_the_checks_that_need_it(tmp_path: Path):
    # Given settings naming a SQLite file that does not exist
    settings = make_settings(f"sqlite:///{tmp_path / 'none.sqlite3'}", tmp_path)
    # When the doctor runs
    checks = {c.name: c for c in await doctor.run(environ_of(settings), wait_s=1)}
    # Then the database fails and the migrations and keys are skipped with a note
    assert checks["database"].failed
    assert checks["migrations"].status == "skip" and checks["keys"].status == "skip"


@pytest.mark.anyio
async def test_a_folder_this_user_may_not_enter_is_a_line_not_a_traceback():
    # Given the database and media under a folder only root may enter, and the doctor as nobody
    with tempfile.TemporaryDirectory() as top:
        settings = make_settings(f"sqlite:///{top}/town.sqlite3", Path(top))
        (Path(top) / "town.sqlite3").write_bytes(b"")
        # When nobody runs the doctor
        with as_user(65534):
            checks = {c.name: c for c in await doctor.run(environ_of(settings), wait_s=1)}
    # Then the checks that could not look fail with the reason, and the run went on
    assert checks["database"].failed
    assert f"nobody may not look at {top}/town.sqlite3" in checks["database"].message
    assert checks["media"].failed and checks["sqlite file"].failed
    assert checks["admin token"].status == "pass"
