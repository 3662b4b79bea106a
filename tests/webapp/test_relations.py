"""The Relationships pages, the questions waiting on Today with "Answer" and "Dealt with",
the week on Today, and Like/Boost on the Neighbours page (browser without JavaScript, both
backends)."""

from __future__ import annotations

import pytest

from fedi_town.store import businesses
from tests.inbound.handlers.timeline_kit import create, followed, note
from tests.inbound.helpers import add_post, add_remote_actor, handle
from tests.webapp.kit import owner_of

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"


async def _alice_asked(client):
    user = await owner_of(client, "bakery")
    services = client.services
    business = await businesses.by_username(services.store, "bakery")
    await add_remote_actor(services.store, ALICE)
    _, post = await add_post(services, business, "Rye today")
    biz = services.urls.actor("bakery")
    asked = note(ALICE, "<p>Is it sourdough?</p>", inReplyTo=post, cc=[biz])
    await handle(services, create(asked))
    return user, services, business, asked


async def test_today_lists_questions_and_dealt_with_takes_one_off(app_client):
    # Given Alice asked the bakery something
    user, _, _, _ = await _alice_asked(app_client)
    # When the owner opens Today
    today = await user.get("/app/bakery")
    # Then her question waits, with Answer into compose and a Dealt with button; the week shows
    assert "Waiting for an answer" in today.text and "Is it sourdough?" in today.text
    assert "in_reply_to=" in today.text and "Dealt with" in today.text
    assert "Your week" in today.text and "You gave back 0 times for 1 post." in today.text
    note_id = today.text.split('action="/app/bakery/questions/')[1].split('"')[0]
    # When the owner marks it dealt with
    done = await user.submit(
        f"/app/bakery/questions/{note_id}", {"act": "done", "back": "/app/bakery"}, follow=True
    )
    # Then it is gone from Today
    assert "Marked as dealt with." in done.text
    assert "Nobody is waiting for an answer." in done.text


async def test_relationships_list_and_one_neighbours_page(app_client):
    # Given Alice asked, and the bakery answered
    user, services, business, asked = await _alice_asked(app_client)
    await add_post(services, business, "Yes, it is!", in_reply_to_uri=asked["id"])
    # When the owner opens Relationships, then Alice
    listing = await user.get("/app/bakery/relationships")
    assert listing.status_code == 200
    assert 'href="/app/bakery/relationships" aria-current="page"' in listing.text
    link = listing.text.split('<a href="/app/bakery/relationships/')[1].split('"')[0]
    page = await user.get(f"/app/bakery/relationships/{link}")
    # Then both sides show
    assert page.status_code == 200
    assert "Replies and mentions: <strong>1</strong>" in page.text
    assert "Your answers: <strong>1</strong>" in page.text
    assert "Yes, it is!" in page.text
    missing = await user.get("/app/bakery/relationships/123456")
    assert missing.status_code == 404


async def test_neighbours_posts_have_like_and_boost_buttons(app_client):
    # Given the bakery follows Alice, who posted
    user = await owner_of(app_client, "bakery")
    services = app_client.services
    business = await businesses.by_username(services.store, "bakery")
    await followed(services, business, ALICE)
    post = note(ALICE, "<p>Plums</p>")
    await handle(services, create(post))
    # When the owner opens Neighbours
    page = await user.get("/app/bakery/neighbours")
    # Then the post has Like and Boost, coming back to it
    assert f'name="object" value="{post["id"]}"' in page.text
    assert 'value="like">Like' in page.text and 'value="boost">Boost' in page.text
    assert 'name="back" value="/app/bakery/neighbours#t' in page.text
