"""The Neighbours page (the home timeline), as a browser without JavaScript uses it: posts of
followed accounts newest first, boosts with who boosted, attachments as links, "Reply" into
the compose page, paging, and hostile content made harmless (both backends)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from fedi_town.store import businesses
from fedi_town.webapp import timeline
from tests.inbound.handlers.timeline_kit import announce, create, followed, note
from tests.inbound.helpers import add_post, add_remote_actor, handle
from tests.webapp.kit import owner_of

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"
BOB = "https://mastodon.example/users/bob"


async def test_an_empty_timeline_says_how_to_fill_it(app_client):
    user = await owner_of(app_client, "bakery")
    page = await user.get("/app/bakery/neighbours")
    assert page.status_code == 200
    assert "Nothing yet." in page.text
    assert 'href="/app/bakery/neighbours" aria-current="page"' in page.text  # in the menu


async def test_posts_and_boosts_show_with_reply_links_into_compose(app_client):
    # Given the bakery follows Alice, who posted (with a photo) and boosted Bob
    user = await owner_of(app_client, "bakery")
    services = app_client.services
    business = await businesses.by_username(services.store, "bakery")
    await followed(services, business, ALICE)
    await add_remote_actor(services.store, BOB)
    post = note(
        ALICE,
        '<p>Plums <script>alert(1)</script><a href="javascript:alert(2)">here</a></p>',
        attachment=[
            {
                "type": "Document",
                "mediaType": "image/jpeg",
                "url": "https://files.mastodon.example/p.jpg",
                "name": "A crate of plums",
            }
        ],
    )
    await handle(services, create(post))
    boosted = note(BOB, "<p>Rye on Fridays</p>")
    await handle(services, announce(ALICE, boosted))
    await add_post(services, business, "Lovely!", in_reply_to_uri=post["id"])

    # When the owner opens Neighbours
    page = await user.get("/app/bakery/neighbours")

    # Then the boost is first, saying Alice boosted Bob's post; then Alice's post
    text = page.text
    assert text.index("Rye on Fridays") < text.index("Plums")
    assert "Alice</a> boosted" in text
    # And the photo is a link to Alice's server, never loaded or copied here
    assert '<a href="https://files.mastodon.example/p.jpg"' in text
    assert "Photo: A crate of plums" in text
    assert "<img" not in text.split("<main", 1)[1]
    # And nothing hostile survived
    assert "<script>alert" not in text and "javascript:" not in text
    # And each post has a Reply link into the compose page; Alice's says it was answered
    assert f'href="/app/bakery/compose?in_reply_to={quote(post["id"], safe="")}"' in text
    assert "You answered" in text
    compose = await user.get(f"/app/bakery/compose?in_reply_to={quote(post['id'], safe='')}")
    assert compose.status_code == 200


async def test_older_posts_are_a_page_away(app_client, monkeypatch):
    monkeypatch.setattr(timeline, "PAGE_SIZE", 2)
    user = await owner_of(app_client, "bakery")
    services = app_client.services
    business = await businesses.by_username(services.store, "bakery")
    await followed(services, business, ALICE)
    for n in range(3):
        await handle(services, create(note(ALICE, f"<p>Loaf number {n}</p>")))
    first = await user.get("/app/bakery/neighbours")
    assert "Loaf number 2" in first.text and "Loaf number 0" not in first.text
    older = first.text.split('<nav class="pager"', 1)[1].split('href="', 2)[1].split('"', 1)[0]
    second = await user.get(older.replace("&amp;", "&"))
    assert "Loaf number 0" in second.text and "Loaf number 2" not in second.text
    assert 'href="/app/bakery/neighbours">Newest' in second.text


async def test_another_businesss_neighbours_page_is_404(app_client):
    user = await owner_of(app_client, "bakery")
    await owner_of(app_client, "cafe", login="carl")
    page = await user.get("/app/cafe/neighbours")
    assert page.status_code == 404
