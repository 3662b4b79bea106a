"""``fedi-town export-business`` and ``import-business`` run as an operator would: the
archive moves to an instance on the other backend; a taken name or a damaged file is one
line and exit 1, with nothing written."""

from __future__ import annotations

import pytest

from fedi_town import cli
from tests.conftest import KEY_ENCRYPTION_KEY, make_settings
from tests.test_cli import cli_env


def said(stderr: str) -> list[str]:
    """The lines a command printed itself (not the log's, which start with a date)."""
    return [line for line in stderr.splitlines() if not line[:4].isdigit()]


def test_a_business_exported_here_is_imported_on_the_other_backend_with_a_new_token(
    monkeypatch, settings, other_database_url, tmp_path, capsys
):
    # Given an instance with a business
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    assert cli.main(["create-business", "bakery", "--display-name", "Corner Bakery"]) == 0
    capsys.readouterr()

    # When the operator exports it
    archive = tmp_path / "bakery.tar.gz"
    assert cli.main(["export-business", "bakery", "--out", str(archive)]) == 0

    # Then it says what the file holds and that followers come by Move
    out = capsys.readouterr().out
    assert f"wrote {archive}" in out and "0 posts" in out and "Move" in out
    assert "Keys and the owner token are not in it" in out

    # When it is imported into an instance on the other backend, under another name
    cli_env(monkeypatch, make_settings(other_database_url, tmp_path / "other"), KEY_ENCRYPTION_KEY)
    assert cli.main(["import-business", str(archive), "--username", "corner"]) == 0

    # Then it names the new actor, prints a new owner token once and the next step
    out = capsys.readouterr().out
    assert "as http://127.0.0.1/users/corner" in out and "new keys" in out
    assert "owner token (shown once): ftown_" in out
    assert "/api/v1/businesses/corner/aliases" in out and "http://127.0.0.1/users/bakery" in out

    # And importing it again under the same name is refused in one line
    assert cli.main(["import-business", str(archive), "--username", "corner"]) == 1
    [line] = said(capsys.readouterr().err)
    assert line == "error: username 'corner' is taken here: choose another with --username NEW"


@pytest.mark.parametrize("content", [b"", b"\x1f\x8b\x08\x00 not really", b"plain text"])
def test_import_of_a_damaged_file_is_one_line_and_exit_1(
    monkeypatch, settings, tmp_path, capsys, content
):
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(content)
    assert cli.main(["import-business", str(damaged)]) == 1
    [line] = said(capsys.readouterr().err)
    assert line.startswith("error: damaged.tar.gz is not a complete business archive")
    assert cli.main(["list-businesses", "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"


def test_export_of_an_unknown_business_is_one_line_and_exit_1(
    monkeypatch, settings, tmp_path, capsys
):
    cli_env(monkeypatch, settings, KEY_ENCRYPTION_KEY)
    out = tmp_path / "nobody.tar.gz"
    assert cli.main(["export-business", "nobody", "--out", str(out)]) == 1
    [line] = said(capsys.readouterr().err)
    assert line == "error: there is no business 'nobody' here"
    assert not out.exists()
