"""Unicode tricks through the admin API: usernames, hashtags and mentions.

A username is ASCII letters, digits and ``_`` (``.``/``-`` between them), so homoglyphs
(Cyrillic ``а``, the Kelvin sign, long s, dotless i), RTL overrides, zero-width characters,
NUL and overlong names are refused with 422 and nothing is stored. In a post, hashtags are
stored as NFKC (fullwidth letters name the plain tag) and end at any character that is not
a letter or digit; a mention is ASCII only, so a homoglyph host is never looked up.
"""

from __future__ import annotations

import json
import os

import pytest
from cryptography.fernet import Fernet

from fedi_town import cli
from tests.conftest import admin_headers, create_business
from tests.reliability import record

pytestmark = pytest.mark.anyio

USERNAMES = {
    "Cyrillic homoglyph": "b\u0430kery",
    "Kelvin sign": "\u212aiosk",
    "long s": "\u017fhop",
    "dotless i": "p\u0131zza",
    "fullwidth letters": "\uff42\uff41\uff4b\uff45\uff52\uff59",
    "RTL override": "\u202eyrekab",
    "zero-width space": "bak\u200bery",
    "zero-width joiner": "bak\u200dery",
    "combining mark": "cafe\u0301",
    "NUL": "bak\x00ery",
    "lone surrogate": "bak\ud800ery",
    "overlong": "a" * 31,
    "very long": "a" * 10_000,
    "emoji": "\U0001f35ebakery",
    "leading dot": ".bakery",
    "space": "the bakery",
    "reserved": "admin",
}


@pytest.mark.parametrize("trick", list(USERNAMES))
async def test_a_username_with_a_unicode_trick_is_refused_and_nothing_is_stored(app_client, trick):
    # Given an instance with no business
    # When the admin creates a business whose username carries the trick
    body = json.dumps({"username": USERNAMES[trick], "display_name": "Shop"})  # \u escapes
    response = await app_client.post(
        "/api/v1/businesses",
        content=body,
        headers={**admin_headers(), "Content-Type": "application/json"},
    )
    record("admin-api", f"username: {trick}", str(response.status_code))
    # Then it is refused (422, or 400 when the JSON cannot be stored at all)
    assert response.status_code in {400, 422}, response.text
    assert response.headers["content-type"] == "application/problem+json"
    # And no business exists
    listed = await app_client.get("/api/v1/businesses", headers=admin_headers())
    assert listed.json()["total"] == 0


async def test_hashtags_are_stored_as_nfkc_and_end_at_invisible_characters(app_client):
    # Given a business
    created = await create_business(app_client, "bakery")
    owner = {"Authorization": f"Bearer {created['owner_token']}"}
    # When it posts hashtags in fullwidth letters, with a ligature, a zero-width space,
    # an RTL override and a combining mark
    content = "#\uff42\uff52\uff45\uff41\uff44 #\ufb01sh #ry\u200be #\u202ecake #cre\u0300me"
    response = await app_client.post(
        "/api/v1/businesses/bakery/posts", json={"content": content}, headers=owner
    )
    record("admin-api", "unicode tricks in hashtags", str(response.status_code))
    # Then the post is written with plain, visible tag names
    assert response.status_code == 201, response.text
    post = response.json()
    assert post["hashtags"] == ["bread", "fish", "ry", "cre"]
    assert "\u202e<" not in post["content_html"]
    # And the tag page finds it under the plain name, and under the fullwidth one
    for name in ("bread", "\uff42\uff52\uff45\uff41\uff44"):
        page = await app_client.get(f"/@bakery/tagged/{name}")
        assert page.status_code == 200
        assert "bread" in page.text


async def test_a_mention_of_a_homoglyph_host_is_not_looked_up(app_client):
    # Given a business
    created = await create_business(app_client, "bakery")
    owner = {"Authorization": f"Bearer {created['owner_token']}"}
    # When it mentions accounts on hosts spelled with the Kelvin sign and long s
    content = "Hi @alice@\u212aiosk.example and @bob@\u017fhop.example"
    response = await app_client.post(
        "/api/v1/businesses/bakery/posts", json={"content": content}, headers=owner
    )
    record("admin-api", "homoglyph host in a mention", str(response.status_code))
    # Then the post is written and mentions nobody on those hosts
    assert response.status_code == 201, response.text
    assert response.json()["mentions"] == []


@pytest.mark.parametrize(
    "argv",
    [
        ["create-business", "b\u0430kery"],
        ["create-business", "\udcffshop"],
        ["create-business", "shop", "--display-name", "Shop\udcff"],
        ["create-business", "shop", "--summary", "bio\udcfe"],
    ],
    ids=["homoglyph", "undecodable username", "undecodable name", "undecodable bio"],
)
def test_the_command_line_refuses_unicode_tricks_with_a_message(
    monkeypatch, database_url, tmp_path, capsys, argv
):
    # Given the command line's settings (argv bytes that are not UTF-8 arrive as lone
    # surrogates, Python's surrogateescape)
    for name in [n for n in os.environ if n.startswith("FEDI_TOWN_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("FEDI_TOWN_DATABASE_URL", database_url)
    monkeypatch.setenv("FEDI_TOWN_BASE_URL", "https://town.example")
    monkeypatch.setenv("FEDI_TOWN_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("FEDI_TOWN_KEY_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    # When create-business is run with them
    code = cli.main(argv)
    # Then it exits with an error line, not a traceback
    err = capsys.readouterr().err
    record("admin-api", "unicode trick on the command line", f"exit {code}")
    assert code == 1
    assert any(line.startswith("error: ") for line in err.splitlines()), err
    assert "Traceback" not in err
