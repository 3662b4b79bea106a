"""``fedi-town backup``, ``restore`` and ``copy-database`` run as an operator would, with the
environment of the instance, on both backends (restored and copied to the other one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedi_town import cli, progress
from fedi_town.protocol.sealed import new_key
from fedi_town.settings import Settings
from tests.conftest import KEY_ENCRYPTION_KEY, make_settings
from tests.test_cli import cli_env

SECRETS = "FEDI_TOWN_KEY_ENCRYPTION_KEYS"


def said(stderr: str) -> list[str]:
    """The lines a command printed itself (not the log's, which start with a date)."""
    return [line for line in stderr.splitlines() if not line[:4].isdigit()]


def other_instance(monkeypatch, other_database_url, tmp_path) -> Settings:
    settings = make_settings(other_database_url, tmp_path / "other")
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    return settings


def test_backup_then_restore_on_the_other_backend_says_what_it_did_and_what_to_keep(
    monkeypatch, settings, other_database_url, tmp_path, capsys
):
    # Given an instance with a business
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    assert cli.main(["create-business", "bakery"]) == 0
    capsys.readouterr()
    # When the operator backs it up
    archive = tmp_path / "nightly.tar.gz"
    assert cli.main(["backup", "--to", str(archive)]) == 0
    out = capsys.readouterr().out
    # Then it lists the rows per table, the size, and loudly what the backup does not hold
    assert "businesses" in out and f"wrote {archive}" in out and "bytes" in out
    assert "NOT in the backup: FEDI_TOWN_KEY_ENCRYPTION_KEYS" in out
    assert "FEDI_TOWN_ADMIN_TOKEN" in out
    # When it is restored into a new instance on the other backend, with the same keys
    other_instance(monkeypatch, other_database_url, tmp_path)
    assert cli.main(["restore", str(archive)]) == 0
    # Then it says so, and the business is there with a working key (a new owner token)
    assert "counts verified" in capsys.readouterr().out
    assert cli.main(["token", "bakery"]) == 0


def test_restore_of_a_damaged_archive_is_one_line_and_exit_1(
    monkeypatch, settings, tmp_path, capsys
):
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(b"\x1f\x8b\x08\x00 not really")
    assert cli.main(["restore", str(damaged)]) == 1
    [line] = said(capsys.readouterr().err)
    assert line.startswith("error: damaged.tar.gz is not a complete fedi-town backup")


def test_restore_with_keys_that_do_not_open_names_the_setting_and_writes_nothing(
    monkeypatch, settings, other_database_url, tmp_path, capsys
):
    # Given a backup of an instance with a business
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    assert cli.main(["create-business", "bakery"]) == 0
    archive = tmp_path / "b.tar.gz"
    assert cli.main(["backup", "--to", str(archive)]) == 0
    capsys.readouterr()
    # When it is restored where another key encryption key is set
    other_instance(monkeypatch, other_database_url, tmp_path)
    monkeypatch.setenv(SECRETS, new_key())
    code = cli.main(["restore", str(archive)])
    # Then it refuses in one line naming the setting, and the new instance stays empty
    [line] = said(capsys.readouterr().err)
    assert code == 2 and line.startswith("configuration error: ") and SECRETS in line
    monkeypatch.setenv(SECRETS, KEY_ENCRYPTION_KEY)
    assert cli.main(["token", "bakery"]) == 1


def test_copy_database_prints_every_table_with_both_counts(
    monkeypatch, settings, other_database_url, tmp_path, capsys
):
    # Given an instance with a business
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    assert cli.main(["create-business", "bakery"]) == 0
    capsys.readouterr()
    # When its database is copied to an empty one of the other backend
    assert cli.main(["copy-database", "--to", other_database_url]) == 0
    # Then every table is listed with its source and copied counts, equal
    lines = capsys.readouterr().out.splitlines()
    table = {line.split()[0]: line.split()[1:] for line in lines[1:] if len(line.split()) == 3}
    assert table["businesses"] == ["1", "1"]
    assert all(source == copied for source, copied in table.values())
    assert "every table's count verified" in lines[-1]
    # And the copy serves as the instance's database
    other_instance(monkeypatch, other_database_url, tmp_path)
    assert cli.main(["token", "bakery"]) == 0


def test_copy_database_refuses_a_url_that_is_not_a_database(monkeypatch, settings, capsys):
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    assert cli.main(["copy-database", "--to", "mysql://db"]) == 2
    assert "postgresql://" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["backup", "restore", "copy-database"])
def test_each_backup_command_explains_itself_in_its_help(command, capsys):
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    assert "docs/backups.md" in capsys.readouterr().out


def test_the_backup_guide_names_each_command_and_the_secrets_it_does_not_hold():
    guide = (Path(__file__).resolve().parent.parent / "docs" / "backups.md").read_text()
    for words in ("fedi-town backup", "fedi-town restore", "fedi-town copy-database"):
        assert words in guide
    assert "FEDI_TOWN_KEY_ENCRYPTION_KEYS" in guide and "FEDI_TOWN_ADMIN_TOKEN" in guide


def test_backup_and_restore_show_progress_lines_off_a_terminal_and_nothing_when_quiet(
    monkeypatch, settings, other_database_url, tmp_path, capsys
):
    # Given an instance with a business, and work slow enough for progress lines
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    assert cli.main(["create-business", "bakery"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(progress, "LINE_EVERY_S", 0.0)
    # When it is backed up with stderr not a terminal (a log, a pipe)
    archive = tmp_path / "nightly.tar.gz"
    assert cli.main(["backup", "--to", str(archive)]) == 0
    err = said(capsys.readouterr().err)
    # Then stderr has plain lines saying where the work is, ending each stage
    assert "backup: reading businesses 1 of 1 rows (100%)" in err
    assert "backup: reading businesses 1 of 1 rows (100%), done" in err
    assert any(line.startswith("backup: packing tables ") for line in err)
    # When it is restored elsewhere with --quiet
    other_instance(monkeypatch, other_database_url, tmp_path)
    assert cli.main(["restore", "--quiet", str(archive)]) == 0
    # Then nothing at all is printed, and the rows are there
    captured = capsys.readouterr()
    assert captured.out == "" and said(captured.err) == []
    assert cli.main(["token", "bakery"]) == 0
