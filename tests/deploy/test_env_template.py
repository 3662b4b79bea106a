"""deploy/fedi-town.env.example: every setting, each with its default, and it loads."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest

from fedi_town.errors import ConfigError
from fedi_town.settings import PREFIX, SETTINGS_DOC, Settings
from tests.conftest import ADMIN_TOKEN, KEY_ENCRYPTION_KEY
from tests.deploy.tools import DEPLOY

TEMPLATE = DEPLOY / "fedi-town.env.example"
LINE = re.compile(rf"^(#?){PREFIX}([A-Z0-9_]+)=(.*)$")
#: Unset, retention is each queue's own (7 days); the template shows that figure.
SHOWN_NOT_DEFAULT = {"RETENTION_DAYS"}


def entries() -> list[tuple[bool, str, str]]:
    """(set?, name without the prefix, value without quotes) for each setting line."""
    found = []
    for line in TEMPLATE.read_text().splitlines():
        if match := LINE.match(line):
            commented, name, value = match.groups()
            found.append((not commented, name, value.strip().strip('"')))
    return found


def test_the_template_names_every_setting_once_and_no_other():
    # Given the setting lines of the template, set or commented out
    names = [name for _, name, _ in entries()]
    # Then each setting of fedi_town/settings.py is there exactly once, and nothing else
    assert sorted(names) == sorted(SETTINGS_DOC)


def test_every_setting_in_the_template_has_a_comment_above_it():
    # Given the template's lines
    lines = TEMPLATE.read_text().splitlines()
    # When, above each setting and the settings grouped with it, the next line is looked at
    bare = []
    for number, line in enumerate(lines):
        if not LINE.match(line):
            continue
        above = number - 1
        while above >= 0 and LINE.match(lines[above]):
            above -= 1
        if above < 0 or not lines[above].startswith("#"):
            bare.append(line)
    # Then it is a comment that explains them
    assert bare == []


def test_the_template_filled_in_loads_as_settings_for_a_public_server():
    # Given the template's set lines, with a made key and token pasted in
    environ = {PREFIX + name: value for is_set, name, value in entries() if is_set}
    environ[PREFIX + "KEY_ENCRYPTION_KEYS"] = KEY_ENCRYPTION_KEY
    environ[PREFIX + "ADMIN_TOKEN"] = ADMIN_TOKEN
    # When they are read as the service reads them
    settings = Settings.from_env(environ)
    # Then it is an https instance with its database and media in its state directory
    assert settings.base_url == "https://town.example"
    assert settings.database_url == "sqlite:////var/lib/fedi-town/fedi-town.sqlite3"
    assert str(settings.media_dir) == "/var/lib/fedi-town/media"


def test_the_placeholders_stop_the_start_until_they_are_replaced():
    # Given the template's set lines as shipped
    environ = {PREFIX + name: value for is_set, name, value in entries() if is_set}
    # When they are read
    # Then the key placeholder is refused with a message naming the setting
    with pytest.raises(ConfigError, match="FEDI_TOWN_KEY_ENCRYPTION_KEYS"):
        Settings.from_env(environ)


def test_each_commented_value_is_the_default_it_claims_to_be():
    # Given the commented-out lines, which say "an unset setting takes the default shown"
    # (the defaults as an unset environment gives them: some are computed, e.g. per CPU)
    unset = Settings.from_env({})
    defaults = {f.name: getattr(unset, f.name) for f in fields(Settings)}
    wrong = []
    for is_set, name, value in entries():
        if is_set or name in SHOWN_NOT_DEFAULT:
            continue
        # When each is read alone
        settings = Settings.from_env({PREFIX + name: value})
        # Then it gives the same value as leaving it unset
        if getattr(settings, name.lower()) != defaults[name.lower()]:
            wrong.append(name)
    assert wrong == []
