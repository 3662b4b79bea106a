"""The service's environment file, read for a CLI command: syntax, errors, precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedi_town import envfile
from fedi_town.errors import ConfigError

SAMPLE = """\
# fedi-town settings
; also a comment

FEDI_TOWN_BASE_URL=https://town.example
export FEDI_TOWN_PORT=8001
FEDI_TOWN_INSTANCE_NAME="Our \\"little\\" town"
FEDI_TOWN_INSTANCE_DESCRIPTION='Shops # and cafés'
  FEDI_TOWN_HOST = 127.0.0.1
PYTHONUNBUFFERED=1
"""


def test_comments_blank_lines_export_and_quotes_are_read_as_systemd_does():
    # When the sample file is parsed
    values = envfile.parse(SAMPLE, "env")
    # Then each pair is read, quotes removed and \" unescaped inside double quotes
    assert values == {
        "FEDI_TOWN_BASE_URL": "https://town.example",
        "FEDI_TOWN_PORT": "8001",
        "FEDI_TOWN_INSTANCE_NAME": 'Our "little" town',
        "FEDI_TOWN_INSTANCE_DESCRIPTION": "Shops # and cafés",
        "FEDI_TOWN_HOST": "127.0.0.1",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("A=1\nnot a setting\n", 2, "expected NAME=value"),
        ("\n\n=value\n", 3, "expected NAME=value"),
        ("A=1\nB='open\n", 2, "no closing '"),
        ('X="secret\n', 1, 'no closing "'),
    ],
)
def test_a_bad_line_is_one_error_naming_the_file_and_the_line(text, line, words):
    # When a file with a bad line is parsed
    with pytest.raises(ConfigError) as caught:
        envfile.parse(text, "/etc/fedi-town/env")
    # Then the error names the file, the line and what is wrong, and shows no value
    assert str(caught.value).startswith(f"/etc/fedi-town/env:{line}: ")
    assert words in str(caught.value)
    assert "secret" not in str(caught.value)


def test_a_missing_file_is_an_error_naming_it(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"nothere: no such environment file"):
        envfile.read(tmp_path / "nothere")


def test_an_unreadable_file_is_an_error_naming_it(tmp_path: Path):
    # Given a folder where a file is expected
    with pytest.raises(ConfigError, match=r"cannot read the environment file"):
        envfile.read(tmp_path)


def test_the_real_environment_wins_and_only_fedi_town_settings_are_filled_in():
    # Given an environment that sets the port already
    environ = {"FEDI_TOWN_PORT": "9000", "PATH": "/usr/bin"}
    # When the file's values fill it in
    filled = envfile.fill_in(environ, envfile.parse(SAMPLE, "env"))
    # Then the port stays, the other settings are added, other names are left out
    assert environ["FEDI_TOWN_PORT"] == "9000"
    assert environ["FEDI_TOWN_BASE_URL"] == "https://town.example"
    assert "PYTHONUNBUFFERED" not in environ
    assert "FEDI_TOWN_PORT" not in filled and "FEDI_TOWN_HOST" in filled
