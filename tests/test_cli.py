"""The command line, run in-process with its real environment on both backends."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import anyio
import pytest

from fedi_town import cli
from fedi_town.protocol.sealed import Keyring, new_key
from fedi_town.settings import Settings
from tests.conftest import KEY_ENCRYPTION_KEY
from tests.live import bind_loopback, live_instance

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


@pytest.mark.empty_database
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


def test_version_prints_the_installed_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert re.fullmatch(r"fedi-town \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)


def env_file(monkeypatch: pytest.MonkeyPatch, path: Path, values: dict[str, str]) -> Path:
    """Write ``values`` as an environment file; the variables the CLI fills in from it are
    removed again after the test."""
    for name in values:
        if name not in os.environ:
            monkeypatch.setenv(name, "")
            monkeypatch.delenv(name)  # restored to "not set" at the end
    lines = ["# the service's settings", ""] + [f'{k}="{v}"' for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("before", [True, False])
def test_settings_come_from_the_env_file_given_before_or_after_the_command(
    monkeypatch, settings, tmp_path, capsys, before
):
    # Given an environment with only the database, and the rest in an environment file
    cli_env(monkeypatch, settings, None)
    monkeypatch.delenv("FEDI_TOWN_BASE_URL")
    path = env_file(
        monkeypatch,
        tmp_path / "env",
        {"FEDI_TOWN_BASE_URL": "https://town.example", SETTING: KEY_ENCRYPTION_KEY},
    )
    # When a business is created with --env-file before or after the command's name
    option = ["--env-file", str(path)]
    argv = (
        [*option, "create-business", "bakery"] if before else ["create-business", "bakery", *option]
    )
    assert cli.main(argv) == 0
    # Then the file's base URL was used
    assert capsys.readouterr().out.startswith("created @bakery@town.example")


def test_the_real_environment_wins_over_the_env_file(monkeypatch, settings, tmp_path, capsys):
    # Given a base URL in the environment and another one in the file
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    path = env_file(monkeypatch, tmp_path / "env", {"FEDI_TOWN_BASE_URL": "https://town.example"})
    # When a business is created
    assert cli.main(["create-business", "bakery", "--env-file", str(path)]) == 0
    # Then the environment's base URL was used
    assert capsys.readouterr().out.startswith("created @bakery@127.0.0.1")


def test_a_missing_or_bad_env_file_is_one_line_naming_file_and_line(tmp_path, capsys):
    # When the file does not exist, or has a bad third line
    missing = cli.main(["migrate", "--env-file", str(tmp_path / "nope")])
    missing_err = capsys.readouterr().err
    bad = tmp_path / "env"
    bad.write_text("# settings\nFEDI_TOWN_PORT=8000\nFEDI_TOWN_HOST\n")
    wrong = cli.main(["--env-file", str(bad), "doctor"])
    wrong_err = capsys.readouterr().err
    # Then each is one line naming the file (and the line), with exit code 2
    assert missing == 2 and wrong == 2
    assert missing_err == f"configuration error: {tmp_path / 'nope'}: no such environment file\n"
    assert wrong_err == f"configuration error: {bad}:3: expected NAME=value\n"


def test_list_businesses_prints_a_table_and_json(monkeypatch, settings, capsys):
    # Given two businesses
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    assert cli.main(["list-businesses"]) == 0
    empty = capsys.readouterr().out
    assert cli.main(["create-business", "bakery"]) == 0
    assert cli.main(["create-business", "florist"]) == 0
    capsys.readouterr()
    # When they are listed as a table and as JSON
    assert cli.main(["list-businesses"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert cli.main(["list-businesses", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    # Then both show each business's username, handle, counts and creation time
    assert "no businesses yet" in empty
    assert table[0].split() == ["username", "handle", "followers", "posts", "created"]
    assert table[1].split()[:4] == ["bakery", "@bakery@127.0.0.1", "0", "0"]
    assert [row["handle"] for row in rows] == ["@bakery@127.0.0.1", "@florist@127.0.0.1"]
    assert rows[0]["followers"] == 0 and rows[0]["posts"] == 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rows[0]["created"])


def test_doctor_lists_each_misconfiguration_and_exits_1(monkeypatch, settings, capsys):
    # Given a migrated instance with no admin token, no key, a public http base URL and
    # nothing serving it
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    assert cli.main(["create-business", "bakery"]) == 0
    monkeypatch.delenv(SETTING)
    monkeypatch.setenv("FEDI_TOWN_BASE_URL", "http://127.0.0.1:1")
    capsys.readouterr()
    # When the doctor runs
    code = cli.main(["doctor", "--timeout", "2"])
    out = capsys.readouterr().out.splitlines()
    # Then it says what to fix, one ✗ line each, and exits 1
    failed = {line.split(":")[0] for line in out if line.startswith("✗")}
    assert failed == {"✗ keys", "✗ own URL", "✗ admin token"}
    assert out[-1] == "3 problem(s) to fix"
    assert code == 1


def test_doctor_names_a_bad_setting_without_a_traceback(monkeypatch, settings, capsys):
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    monkeypatch.setenv("FEDI_TOWN_LOG_LEVEL", "verbose")
    assert cli.main(["doctor"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].startswith("✗ settings: FEDI_TOWN_LOG_LEVEL must be")
    assert "Traceback" not in captured.out + captured.err


@pytest.mark.anyio
async def test_doctor_passes_on_a_good_live_instance(monkeypatch, database_url, tmp_path, capsys):
    # Given a running instance with a business, its files private as the service makes them
    async with live_instance(database_url, tmp_path) as live:
        await live.create_business("bakery")
        live.settings.media_dir.mkdir(mode=0o700)
        if live.store.path is not None:
            live.store.path.chmod(0o600)
        cli_env(monkeypatch, live.settings, KEY_ENCRYPTION_KEY)
        monkeypatch.setenv("FEDI_TOWN_BASE_URL", live.base_url)
        monkeypatch.setenv("FEDI_TOWN_ADMIN_TOKEN", live.settings.admin_token)
        # When fedi-town doctor runs beside it
        code = await anyio.to_thread.run_sync(cli.main, ["doctor"])
    # Then every check is ✓ (or – for what does not apply) and it exits 0 (the live
    # server's access log shares this process's output: only the check lines count)
    out = capsys.readouterr().out.splitlines()
    checks = [line for line in out if line[:1] in {"✓", "✗", "–"}]
    assert code == 0, out
    assert out[-1] == "all checks passed"
    assert len(checks) == 11 and not [line for line in checks if line.startswith("✗")]
