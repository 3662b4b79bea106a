"""The blocks and reports page: blocking a person or a server, lifting it, the API's
sentence next to the field, and the reports other servers sent (both backends)."""

from __future__ import annotations

import re

import pytest

from fedi_town.store import businesses
from fedi_town.webapp.moderation import block_body
from tests.api.helpers import followers_from
from tests.conftest import admin_headers
from tests.inbound import payloads as p
from tests.inbound.helpers import add_post, add_remote_actor, handle
from tests.webapp.kit import owner_of

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"


async def blocks(app_client) -> list[dict]:
    answer = await app_client.get("/api/v1/businesses/bakery/blocks", headers=admin_headers())
    items: list[dict] = answer.json()["items"]
    return items


@pytest.mark.parametrize(
    ("typed", "body"),
    [
        ("@alice@mastodon.example", {"actor": "@alice@mastodon.example"}),
        ("alice@mastodon.example", {"actor": "alice@mastodon.example"}),
        (ALICE, {"actor": ALICE}),
        ("  spam.example ", {"domain": "spam.example"}),
        ("xn--bcher-kva.example", {"domain": "xn--bcher-kva.example"}),
        ("bob", {"actor": "bob"}),
        ("spam.example/path", {"actor": "spam.example/path"}),
    ],
)
def test_what_is_typed_is_sent_as_a_person_or_a_server(typed, body):
    assert block_body(typed) == body


async def test_a_known_handle_is_blocked_and_then_unblocked(app_client):
    # Given Alice follows the bakery
    user = await owner_of(app_client, "bakery")
    services = app_client.services
    business = await businesses.by_username(services.store, "bakery")
    await followers_from(services, business, ALICE)
    await user.get("/app/bakery/moderation")
    # When the owner blocks her by handle
    page = await user.submit(
        "/app/bakery/moderation/blocks", {"who": "@alice@mastodon.example"}, follow=True
    )
    # Then she is blocked and listed, with a button to lift it
    assert "@alice@mastodon.example is blocked" in page.text
    [block] = await blocks(app_client)
    assert block["actor"] == ALICE
    assert f"Unblock {ALICE}</button>" in page.text
    # When the owner lifts it
    action = f"/app/bakery/moderation/blocks/{block['id']}/remove"
    assert f'action="{action}"' in page.text
    page = await user.submit(action, {"label": ALICE}, follow=True)
    # Then the block is gone
    assert f"{ALICE} is no longer blocked." in page.text
    assert await blocks(app_client) == []
    assert "You have not blocked anyone." in page.text


async def test_a_whole_server_is_blocked_by_its_domain(app_client):
    user = await owner_of(app_client, "bakery")
    await user.get("/app/bakery/moderation")
    page = await user.submit("/app/bakery/moderation/blocks", {"who": "Spam.Example"}, follow=True)
    assert "Everyone on Spam.Example is blocked" in page.text
    assert [b["domain"] for b in await blocks(app_client)] == ["spam.example"]
    assert "Unblock spam.example</button>" in page.text and "the whole server" in page.text


@pytest.mark.parametrize(
    ("typed", "sentence"),
    [
        ("@bob", "Write a handle like @alice@mastodon.example, or the address of their profile."),
        ("", "Write who to block: a handle like @name@server, or a domain like spam.example."),
    ],
)
async def test_a_bad_handle_shows_the_sentence_next_to_the_field(app_client, typed, sentence):
    # Given the owner on the page
    user = await owner_of(app_client, "bakery")
    await user.get("/app/bakery/moderation")
    # When she types something that is neither a handle nor a domain
    page = await user.submit("/app/bakery/moderation/blocks", {"who": typed})
    # Then the page comes back with the sentence tied to the field, her text kept
    assert page.status_code == 422
    assert f'<p class="field-error" id="who-error">{sentence}</p>' in page.text
    assert re.search(
        r'<input id="who" name="who" type="text" value="' + re.escape(typed), page.text
    )
    assert 'aria-invalid="true" aria-describedby="who-hint who-error"' in page.text
    assert await blocks(app_client) == []


async def test_a_handle_that_is_nowhere_to_be_found_says_so(app_client):
    user = await owner_of(app_client, "bakery")
    await user.get("/app/bakery/moderation")
    page = await user.submit("/app/bakery/moderation/blocks", {"who": "@ghost@nowhere.invalid"})
    assert page.status_code == 422
    assert "Nobody called @ghost@nowhere.invalid was found. Check the spelling." in page.text


async def test_reports_about_the_business_are_listed_with_who_sent_them(app_client):
    # Given another server's moderators reported one of the bakery's posts
    user = await owner_of(app_client, "bakery")
    services = app_client.services
    business = await businesses.by_username(services.store, "bakery")
    _, post_uri = await add_post(services, business)
    instance = "https://mastodon.example/actor"
    await add_remote_actor(services.store, instance)
    await handle(services, p.mastodon_flag(instance, services.urls.actor("bakery"), post_uri))
    # When the owner opens the page
    page = await user.get("/app/bakery/moderation")
    # Then the report is there: from whom, what they wrote, about what
    assert "From the moderators of <strong>mastodon.example</strong>" in page.text
    assert "Spam: same advert posted 40 times" in page.text
    assert f'href="{post_uri}"' in page.text and "your profile" in page.text


async def test_another_businesss_moderation_page_is_404(app_client):
    user = await owner_of(app_client, "bakery")
    await owner_of(app_client, "cafe", login="carl")
    assert (await user.get("/app/cafe/moderation")).status_code == 404
    await user.get("/app/bakery/moderation")
    answer = await user.submit("/app/cafe/moderation/blocks", {"who": "spam.example"})
    assert answer.status_code == 404
