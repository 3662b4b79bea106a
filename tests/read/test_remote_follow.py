"""'Follow from your Mastodon': a good handle redirects home, anything else stays here."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from fedi_town.read.remote_follow import home_server
from tests.conftest import create_business
from tests.read.helpers import BROWSER

pytestmark = pytest.mark.anyio

ACTOR = "https://town.example/users/bakery"
FORM = {"Content-Type": "application/x-www-form-urlencoded", **BROWSER}


@pytest.mark.parametrize(
    "handle", ["@me@mastodon.example", "me@mastodon.example", " @Me@Mastodon.Example "]
)
async def test_a_good_handle_is_sent_to_its_server_to_confirm_the_follow(app_client, handle):
    # Given a business
    await create_business(app_client, "bakery")
    # When a visitor submits their handle
    response = await app_client.post("/@bakery/follow", data={"handle": handle}, headers=BROWSER)
    # Then they are sent to their own server's authorize_interaction page for our actor
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"https://mastodon.example/authorize_interaction?uri={quote(ACTOR, safe='')}"
    )


async def test_the_form_also_works_as_a_get(app_client):
    await create_business(app_client, "bakery")
    response = await app_client.get(
        "/@bakery/follow", params={"handle": "me@social.example:8443"}, headers=BROWSER
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith(
        "https://social.example:8443/authorize_interaction?uri="
    )


@pytest.mark.parametrize(
    "handle",
    [
        "",
        "javascript:alert(1)",
        "@x@evil.example/path",
        "@x@evil.example?next=https://x",
        "@x@evil.example#frag",
        "@x@evil.example@other.example",
        "https://evil.example/",
        "@x@localhost",
        "@x@127.0.0.1",
        "@x@evil.example:99999",
        "@x@-bad-.example",
        "@x@evil..example",
        "x@town.example",
        "@x@evil example",
    ],
)
async def test_a_bad_handle_re_renders_the_page_with_an_error_and_no_redirect(app_client, handle):
    # Given a business
    await create_business(app_client, "bakery")
    # When a visitor submits something that is not a handle on another server
    response = await app_client.post("/@bakery/follow", data={"handle": handle}, headers=BROWSER)
    # Then they get the profile page again, with an error, and no redirect
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in response.text
    assert 'name="handle"' in response.text


async def test_the_typed_handle_is_escaped_when_shown_again(app_client):
    await create_business(app_client, "bakery")
    response = await app_client.post(
        "/@bakery/follow", data={"handle": '"><script>alert(1)</script>'}, headers=BROWSER
    )
    assert response.status_code == 400
    assert "<script>alert(1)" not in response.text


async def test_get_without_a_handle_goes_back_to_the_profile(app_client):
    await create_business(app_client, "bakery")
    response = await app_client.get("/@bakery/follow", headers=BROWSER)
    assert response.status_code == 303
    assert response.headers["location"] == "https://town.example/@bakery"


async def test_following_an_unknown_business_is_404(app_client):
    response = await app_client.post(
        "/@nobody/follow", data={"handle": "me@mastodon.example"}, headers=BROWSER
    )
    assert response.status_code == 404


def test_home_server_normalises_unicode_hosts_to_punycode():
    assert home_server("me@bäckerei.example") == "xn--bckerei-5wa.example"
