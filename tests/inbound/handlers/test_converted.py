"""inbound.handlers.converted: an Event, Video, Image, Audio, Page or Article that mentions or
replies to a business reaches its owner as a note, converted as Mastodon converts it (name,
summary, link) plus links to its attachments, sanitised. Payloads are shaped as Mobilizon,
PeerTube, Pixelfed, Funkwhale, Lemmy and WordPress send them."""

from __future__ import annotations

from typing import Any

import pytest

from fedi_town.inbound.handlers.converted import converted_html
from tests.inbound.handlers.helpers import HANDLE, twice_changes_nothing
from tests.inbound.helpers import add_remote_actor, count, handle, notification_types
from tests.live import wait_until

pytestmark = pytest.mark.anyio

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS}#Public"
MOBILIZON = "https://mobilizon.example/@market"
PEERTUBE = "https://peertube.example/accounts/alice"
PIXELFED = "https://pixelfed.example/users/alice"
FUNKWHALE = "https://funkwhale.example/federation/actors/alice"
LEMMY = "https://lemmy.example/u/alice"
WORDPRESS = "https://blog.example/author/alice/"


def create(actor: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": [AS, "https://w3id.org/security/v1"],
        "id": f"{obj['id']}#create",
        "type": "Create",
        "actor": actor,
        "to": obj.get("to", [PUBLIC]),
        "cc": obj.get("cc", []),
        "object": obj,
    }


def mobilizon_event(biz: str) -> dict[str, Any]:
    # Mobilizon's Event: name, HTML description in content, a Mention tag, a banner Document.
    uri = "https://mobilizon.example/events/6c0b2e6d-3c43-4c8e-9d3a-2f6d0b1e9a11"
    return {
        "id": uri,
        "type": "Event",
        "name": "Christmas market with <b>@bakery</b>",
        "content": "<p>Stalls from 10:00. <script>alert(1)</script></p>",
        "mediaType": "text/html",
        "startTime": "2026-12-19T10:00:00+01:00",
        "endTime": "2026-12-19T18:00:00+01:00",
        "url": uri,
        "attributedTo": MOBILIZON,
        "to": [PUBLIC],
        "cc": [f"{MOBILIZON}/followers"],
        "tag": [{"type": "Mention", "href": biz, "name": HANDLE}],
        "attachment": [
            {
                "type": "Document",
                "mediaType": "image/jpeg",
                "name": "Banner",
                "url": "https://mobilizon.example/media/banner.jpg",
            }
        ],
        "location": {"type": "Place", "name": "Town square"},
        "joinMode": "free",
    }


def peertube_video(biz: str) -> dict[str, Any]:
    # PeerTube's Video: url is a list of Links (the watch page as text/html, then files).
    uri = "https://peertube.example/videos/watch/9c9de5e8-0a1b-4df5-bd12-1f3b2a3c4d5e"
    return {
        "id": uri,
        "type": "Video",
        "name": "How @bakery shapes a baguette",
        "summary": None,
        "content": "Filmed at the bakery.",
        "mediaType": "text/markdown",
        "duration": "PT3M2S",
        "url": [
            {"type": "Link", "mediaType": "text/html", "href": "https://peertube.example/w/abc"},
            {"type": "Link", "mediaType": "video/mp4", "href": "https://peertube.example/f.mp4"},
        ],
        "attributedTo": [PEERTUBE, {"type": "Group", "id": "https://peertube.example/c/bake"}],
        "to": [PUBLIC],
        "cc": [f"{PEERTUBE}/followers"],
        "tag": [{"type": "Mention", "href": biz, "name": HANDLE}],
    }


def pixelfed_image(biz: str, post: str) -> dict[str, Any]:
    # An Image object replying to a post (Pixelfed-shaped): its url is the picture itself.
    uri = "https://pixelfed.example/p/alice/765432"
    return {
        "id": uri,
        "type": "Image",
        "name": "Our croissants, bought this morning",
        "summary": "",
        "inReplyTo": post,
        "url": "https://pixelfed.example/storage/m/croissants.jpg",
        "mediaType": "image/jpeg",
        "attributedTo": PIXELFED,
        "to": [PUBLIC],
        "cc": [biz],
        "attachment": [
            {
                "type": "Image",
                "mediaType": "image/jpeg",
                "url": "https://pixelfed.example/storage/m/croissants.jpg",
                "name": "Three croissants on a plate",
            },
            {"type": "Image", "mediaType": "image/png", "url": "javascript:alert(1)"},
        ],
    }


def funkwhale_audio(biz: str) -> dict[str, Any]:
    uri = "https://funkwhale.example/federation/music/uploads/1b2c"
    return {
        "id": uri,
        "type": "Audio",
        "name": "Bakery jingle",
        "url": [{"type": "Link", "mediaType": "audio/ogg", "href": f"{uri}.ogg"}],
        "attributedTo": FUNKWHALE,
        "to": [biz],
        "cc": [],
    }


def lemmy_page(biz: str) -> dict[str, Any]:
    uri = "https://lemmy.example/post/4242"
    return {
        "id": uri,
        "type": "Page",
        "name": "Best bakery in town? @bakery",
        "content": "<p>I vote for this one</p>",
        "attributedTo": LEMMY,
        "to": [PUBLIC, "https://lemmy.example/c/town"],
        "cc": [],
        "tag": [{"type": "Mention", "href": biz, "name": HANDLE}],
        "audience": "https://lemmy.example/c/town",
    }


def wordpress_article(biz: str) -> dict[str, Any]:
    uri = "https://blog.example/?p=1234"
    return {
        "id": uri,
        "type": "Article",
        "name": "A morning at the bakery",
        "summary": "<p>Where we spent <em>Saturday</em> &amp; why</p>",
        "content": "<p>A long article…</p>",
        "url": "https://blog.example/2026/12/a-morning-at-the-bakery/",
        "attributedTo": WORDPRESS,
        "to": [PUBLIC],
        "cc": [biz],
        "tag": [{"type": "Mention", "href": biz, "name": HANDLE}],
    }


async def stored_note(services) -> dict[str, Any]:
    rows = await services.store.fetch_all("SELECT * FROM remote_notes")
    assert len(rows) == 1
    return dict(rows[0])


async def test_a_mobilizon_event_mentioning_a_business_reaches_its_owner(services, biz):
    await add_remote_actor(services.store, MOBILIZON)
    event = create(MOBILIZON, mobilizon_event(biz))
    assert await handle(services, event) == "note stored for 1 business(es)"
    note = await stored_note(services)
    assert note["content_html"] == (
        "<p><strong>Christmas market with @bakery</strong></p>"
        '<p><a href="https://mobilizon.example/events/6c0b2e6d-3c43-4c8e-9d3a-2f6d0b1e9a11" '
        'rel="nofollow noopener noreferrer">'
        "https://mobilizon.example/events/6c0b2e6d-3c43-4c8e-9d3a-2f6d0b1e9a11</a></p>"
        '<p><a href="https://mobilizon.example/media/banner.jpg" '
        'rel="nofollow noopener noreferrer">Banner</a></p>'
    )
    assert note["summary"] is None
    assert note["visibility"] == "public"
    assert await notification_types(services.store) == ["mention"]
    await twice_changes_nothing(services, event)


async def test_a_peertube_video_links_its_watch_page_not_its_file(services, biz):
    await add_remote_actor(services.store, PEERTUBE)
    video = create(PEERTUBE, peertube_video(biz))
    assert await handle(services, video) == "note stored for 1 business(es)"
    note = await stored_note(services)
    assert "<strong>How @bakery shapes a baguette</strong>" in note["content_html"]
    assert 'href="https://peertube.example/w/abc"' in note["content_html"]
    assert "f.mp4" not in note["content_html"]
    assert note["url"] == "https://peertube.example/w/abc"
    assert await notification_types(services.store) == ["mention"]


async def test_a_pixelfed_image_replying_to_a_post_is_a_reply_with_its_photo_linked(
    services, biz, post
):
    _, post_uri = post
    await add_remote_actor(services.store, PIXELFED)
    image = create(PIXELFED, pixelfed_image(biz, post_uri))
    assert await handle(services, image) == "note stored for 1 business(es)"
    note = await stored_note(services)
    assert note["in_reply_to_uri"] == post_uri
    html = note["content_html"]
    assert "<strong>Our croissants, bought this morning</strong>" in html
    assert ">Three croissants on a plate</a>" in html
    assert "javascript" not in html
    assert await notification_types(services.store) == ["reply"]


async def test_a_funkwhale_audio_sent_only_to_the_business_is_limited(services, biz):
    # addressed to the business without a Mention tag: "limited", as Mastodon reads it
    await add_remote_actor(services.store, FUNKWHALE)
    audio = create(FUNKWHALE, funkwhale_audio(biz))
    assert await handle(services, audio) == "note stored for 1 business(es)"
    note = await stored_note(services)
    assert note["visibility"] == "limited"
    assert note["content_html"].startswith("<p><strong>Bakery jingle</strong></p>")
    assert await notification_types(services.store) == ["mention"]


async def test_a_lemmy_page_and_a_wordpress_article_show_title_summary_and_link(services, biz):
    await add_remote_actor(services.store, LEMMY)
    await add_remote_actor(services.store, WORDPRESS.rstrip("/"))
    await handle(services, create(LEMMY, lemmy_page(biz)))
    article = wordpress_article(biz)
    article["attributedTo"] = WORDPRESS.rstrip("/")
    await handle(services, create(WORDPRESS.rstrip("/"), article))
    rows = await services.store.fetch_all("SELECT content_html FROM remote_notes ORDER BY id")
    page_html, article_html = (r["content_html"] for r in rows)
    assert "I vote" not in page_html  # the body stays at the link, as in Mastodon
    assert 'href="https://lemmy.example/post/4242"' in page_html
    assert "<p>Where we spent Saturday &amp; why</p>" in article_html
    assert "A long article" not in article_html
    assert 'href="https://blog.example/2026/12/a-morning-at-the-bakery/"' in article_html


async def test_a_converted_object_that_concerns_no_business_is_not_kept(services, biz):
    await add_remote_actor(services.store, MOBILIZON)
    event = mobilizon_event(biz)
    event["tag"] = []
    assert (await handle(services, create(MOBILIZON, event))).startswith("ignored")
    assert await count(services.store, "remote_notes") == 0


async def test_an_update_of_a_converted_object_edits_the_note(services, biz):
    await add_remote_actor(services.store, MOBILIZON)
    event = mobilizon_event(biz)
    await handle(services, create(MOBILIZON, event))
    event = {**event, "name": "Christmas market moved indoors", "updated": "2026-12-01T10:00:00Z"}
    update = {**create(MOBILIZON, event), "id": f"{event['id']}#update", "type": "Update"}
    assert await handle(services, update) == "note edited"
    assert "moved indoors" in (await stored_note(services))["content_html"]


def test_a_link_off_the_objects_host_is_replaced_by_its_id():
    html = converted_html(
        {
            "id": "https://mobilizon.example/events/1",
            "type": "Event",
            "name": "x",
            "url": "https://phish.example/login",
        }
    )
    assert "phish" not in html
    assert 'href="https://mobilizon.example/events/1"' in html


def test_at_most_four_attachments_are_linked():
    attachments = [{"type": "Document", "url": f"https://a.example/{n}.jpg"} for n in range(6)]
    html = converted_html(
        {"id": "https://a.example/v/1", "type": "Video", "attachment": attachments}
    )
    assert html.count(">Attachment</a>") == 4


async def test_an_event_posted_by_a_real_peer_reaches_the_owners_notifications(live, peer):
    # Given a business on a live fedi-town, and a peer whose alice organises an event
    await live.create_business("bakery")
    biz = live.urls.actor("bakery")
    alice = peer.actor().uri
    event = mobilizon_event(biz)
    event |= {"id": f"{alice}/events/1", "url": f"{alice}/events/1", "attributedTo": alice}
    # When the peer delivers its signed Create{Event} to the shared inbox
    response = await peer.post(live.urls.base + "/inbox", create(alice, event))
    assert response.status_code == 202, response.text

    # Then the owner's notifications show it as a mention, converted
    async def mentions() -> list[dict[str, Any]]:
        answer = await live.client.get(
            "/api/v1/businesses/bakery/notifications", headers=live.admin_headers()
        )
        return [n for n in answer.json()["items"] if n["type"] == "mention"]

    [mention] = await wait_until(mentions)
    assert mention["note"]["content"].startswith(
        "<p><strong>Christmas market with @bakery</strong></p>"
    )
    assert f'href="{alice}/events/1"' in mention["note"]["content"]
