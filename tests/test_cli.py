"""The command line, run in-process with its real environment on both backends."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from fedi_town import cli
from fedi_town.protocol.sealed import Keyring, new_key
from fedi_town.settings import Settings
from tests.conftest import KEY_ENCRYPTION_KEY
from tests.live import bind_loopback

SETTING = "FEDI_TOWN_KEY_ENCRYPTION_KEYS"


def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings, keys: str | None) -> None:
    for name in [n for n in os.environ if n.startswith("FEDI_TOWN_")]:
        monkeypatch.delenv(name)
    sock = bind_loopback()
    port = sock.getsockname()[1]
    sock.close()
    monkeypatch.setenv("FEDI_TOWN_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FEDI_TOWN_BASE_URL", "http://127.0.0.1")
    monkeypatch.setenv("FEDI_TOWN_ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("FEDI_TOWN_HOST", "127.0.0.1")
    monkeypatch.setenv("FEDI_TOWN_PORT", str(port))
    monkeypatch.setenv("FEDI_TOWN_MEDIA_DIR", str(settings.media_dir))
    if keys is not None:
        monkeypatch.setenv(SETTING, keys)


def test_new_key_encryption_key_prints_a_usable_key(capsys):
    assert cli.main(["new-key-encryption-key"]) == 0
    key = capsys.readouterr().out.strip()
    assert Keyring([key]).open(Keyring([key]).seal("x")) == "x"


def test_serve_without_a_key_refuses_to_start_naming_the_setting(monkeypatch, settings, capsys):
    # Given no key encryption key in the environment
    cli_env(monkeypatch, settings, None)
    # When fedi-town serve starts
    code = cli.main(["serve"])
    # Then it exits at once with a line naming the setting and the command that makes one
    err = capsys.readouterr().err
    assert code != 0
    assert SETTING in err and "fedi-town new-key-encryption-key" in err


def test_serve_with_a_wrong_key_refuses_to_start_naming_the_setting(monkeypatch, settings, capsys):
    # Given keys sealed with one key (a business made by the CLI)
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    assert cli.main(["create-business", "bakery"]) == 0
    # When fedi-town serve starts with another key
    monkeypatch.setenv(SETTING, new_key())
    code = cli.main(["serve"])
    # Then it refuses, naming the setting, showing no key
    err = capsys.readouterr().err
    assert code != 0
    assert SETTING in err and KEY_ENCRYPTION_KEY not in err


def test_rotate_keys_says_how_many_keys_it_resealed(monkeypatch, settings, capsys):
    # Given a business sealed with the test key, and a new key put first
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    assert cli.main(["create-business", "bakery"]) == 0
    monkeypatch.setenv(SETTING, f"{new_key()},{KEY_ENCRYPTION_KEY}")
    capsys.readouterr()
    # When the keys are rotated twice
    assert cli.main(["rotate-keys"]) == 0
    first = capsys.readouterr().out
    assert cli.main(["rotate-keys"]) == 0
    second = capsys.readouterr().out
    # Then the first run resealed the business's key and the second had nothing to do
    assert "resealed 1 of 1 private key(s)" in first
    assert "resealed 0 of 1 private key(s)" in second


def test_the_demo_key_is_made_once_readable_by_its_owner_only(tmp_path: Path):
    # When the demo makes its key twice
    first = cli._demo_key_encryption_key(tmp_path)
    second = cli._demo_key_encryption_key(tmp_path)
    # Then it is the same key, in a file only its owner can read
    assert first == second
    assert Keyring([first]).open(Keyring([first]).seal("x")) == "x"
    mode = stat.S_IMODE((tmp_path / "key-encryption-key").stat().st_mode)
    assert mode == 0o600


def test_migrate_applies_the_migrations_once_then_says_the_database_is_up_to_date(
    monkeypatch, settings, capsys
):
    # Given an empty database
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    # When migrate runs twice
    assert cli.main(["migrate"]) == 0
    first = capsys.readouterr().out
    assert cli.main(["migrate"]) == 0
    second = capsys.readouterr().out
    # Then the first applied the migrations and the second had nothing to do
    assert first.startswith("applied migrations: [1")
    assert second.strip() == "database is up to date"


def test_create_business_prints_the_handle_the_actor_and_the_owner_token_once(
    monkeypatch, settings, capsys
):
    # When a business is created from the command line
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    assert cli.main(["create-business", "bakery", "--display-name", "The Bakery"]) == 0
    # Then its handle, its actor URL and its owner token are printed
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "created @bakery@127.0.0.1"
    assert out[1] == "actor: http://127.0.0.1/users/bakery"
    assert out[2].startswith("owner token (shown once): ") and len(out[2]) > 40


def test_token_issues_a_new_owner_token_and_refuses_an_unknown_business(
    monkeypatch, settings, capsys
):
    # Given a business made from the command line
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    assert cli.main(["create-business", "bakery"]) == 0
    first_token = capsys.readouterr().out.splitlines()[2].rsplit(" ", 1)[1]
    # When a new token is issued for it, and one for a business that does not exist
    assert cli.main(["token", "bakery"]) == 0
    new_token = capsys.readouterr().out.splitlines()[1]
    code = cli.main(["token", "nobody"])
    # Then the new token differs from the first, and the unknown name is refused
    assert new_token and new_token != first_token
    assert code == 1
    assert "no business 'nobody'" in capsys.readouterr().err


def test_invite_prints_a_single_use_sign_in_link_for_an_owner_or_the_admin(
    monkeypatch, settings, capsys
):
    # Given an instance with a business
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    assert cli.main(["create-business", "bakery"]) == 0
    capsys.readouterr()
    # When the admin asks for an owner's link and an admin's link
    assert cli.main(["invite", "--business", "bakery"]) == 0
    owner = capsys.readouterr().out
    assert cli.main(["invite", "--admin"]) == 0
    admin = capsys.readouterr().out
    # Then each prints a link to /invite/<secret>, and asking for nobody or nothing fails
    assert "owner of bakery" in owner and "http://127.0.0.1/invite/" in owner
    assert "the instance admin" in admin and "http://127.0.0.1/invite/" in admin
    assert cli.main(["invite", "--business", "nowhere"]) == 1
    assert cli.main(["invite"]) == 2
