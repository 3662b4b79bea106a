"""Replies in Pixelfed's and Mobilizon's shapes on the owner's post page and the public post
page: text sanitised, custom emoji (Pixelfed) as the cached picture, photos as described
links, mentions kept as links, nothing of the sender's markup beyond that."""

from __future__ import annotations

from typing import Any

import pytest

from fedi_town.store import emojis as store_emojis
from fedi_town.store.emojis import CachedEmoji, digest_of
from tests.inbound import payloads as p
from tests.inbound.helpers import add_remote_actor, handle
from tests.read.helpers import BROWSER
from tests.webapp.kit import owner_of
from tests.webapp.test_posts import api_post

pytestmark = pytest.mark.anyio

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS}#Public"
PIXELFED = "https://pixelfed.example/users/alice"
MOBILIZON = "https://mobilizon.example/@carol"


def pixelfed_reply(a: str, biz: str, post: str, *, emoji_url: str) -> dict[str, Any]:
    # Pixelfed CreateNote transformer: /p/<user>/<id> ids, a mention link with target=_blank,
    # an Image attachment with blurhash, commentsEnabled and capabilities, an Emoji tag.
    note_id = "https://pixelfed.example/p/alice/700000000000000001"
    note = {
        "id": note_id,
        "type": "Note",
        "summary": None,
        "content": f'<a class="u-url mention" href="{biz}" rel="external nofollow noopener" '
        'target="_blank">@bakery</a> looks delicious :pixelfed_heart: '
        '<img src="https://tracker.example/p.gif" onerror="alert(1)">',
        "inReplyTo": post,
        "published": "2026-12-01T09:00:00+00:00",
        "url": note_id,
        "attributedTo": a,
        "to": [PUBLIC],
        "cc": [f"{a}/followers", biz],
        "sensitive": False,
        "attachment": [
            {
                "type": "Image",
                "mediaType": "image/jpeg",
                "url": "https://pixelfed.example/storage/m/_v2/1/abc/croissant.jpg",
                "name": "A croissant on a plate",
                "blurhash": "U7F~gc00_3D%00~q4n%M_4%M-;xu",
                "width": 1080,
                "height": 1080,
            }
        ],
        "tag": [
            {"type": "Mention", "href": biz, "name": "@bakery@town.example"},
            {
                "type": "Emoji",
                "id": "https://pixelfed.example/emojis/12",
                "name": ":pixelfed_heart:",
                "updated": "2026-01-01T00:00:00+00:00",
                "icon": {"type": "Image", "mediaType": "image/png", "url": emoji_url},
            },
        ],
        "commentsEnabled": True,
        "capabilities": {"announce": PUBLIC, "like": PUBLIC, "reply": None},
        "location": None,
    }
    context = [AS, "https://w3id.org/security/v1", {"toot": "http://joinmastodon.org/ns#"}]
    return p.create_of(a, note, context)


def mobilizon_reply(a: str, biz: str, post: str) -> dict[str, Any]:
    # Mobilizon's comment converter: a Note under /comments/<uuid> with uuid, mediaType
    # text/html, an "actor" beside attributedTo, isAnnouncement, the litepub context.
    uuid = "5f2d7a0e-7c1b-4a55-9d0e-3b1f2a6c8e90"
    note_id = f"https://mobilizon.example/comments/{uuid}"
    note = {
        "type": "Note",
        "id": note_id,
        "uuid": uuid,
        "url": note_id,
        "actor": a,
        "attributedTo": a,
        "content": '<p>See you at the tasting! <span class="h-card"><a href="'
        f'{biz}" class="u-url mention">@<span>bakery</span></a></span>'
        "<script>alert(1)</script></p>",
        "mediaType": "text/html",
        "inReplyTo": post,
        "published": "2026-12-01T10:00:00Z",
        "updated": "2026-12-01T10:00:00Z",
        "isAnnouncement": False,
        "to": [PUBLIC],
        "cc": [biz],
        "tag": [{"type": "Mention", "href": biz, "name": "@bakery@town.example"}],
    }
    return {
        "@context": [AS, "https://litepub.social/litepub/context.jsonld"],
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": a,
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
    }


async def _reply_pages(app_client: Any, create: dict[str, Any], post: dict[str, Any]) -> list[str]:
    """The replies part of the owner's post page, and the public post page."""
    user = await owner_of(app_client, "bakery", create=False)
    await handle(app_client.services, create)
    owner = (await user.get(f"/app/bakery/posts/{post['id']}")).text
    replies = owner.split("<h2>Replies", 1)[1].split("<h2>Liked by", 1)[0]
    public = (await app_client.get(f"/@bakery/{post['id']}", headers=BROWSER)).text
    return [replies, public]


async def test_a_pixelfed_reply_shows_its_emoji_and_photo_on_both_post_pages(app_client, bakery):
    # Given a post, and a Pixelfed reply with a photo and a custom emoji the cache kept
    post = await api_post(app_client, content="New croissants!")
    services = app_client.services
    await add_remote_actor(services.store, PIXELFED)
    icon = "https://pixelfed.example/storage/emoji/heart.png"
    await store_emojis.record(
        services.store,
        CachedEmoji(digest_of(icon), icon, "ok", "image/png", "emoji/h.png", 16, 16, None),
        1,
    )
    create = pixelfed_reply(PIXELFED, services.urls.actor("bakery"), post["uri"], emoji_url=icon)
    # When the owner and a visitor open the post
    for html in await _reply_pages(app_client, create, post):
        # Then the reply's text shows, the emoji as the picture served here
        assert "looks delicious" in html
        assert f'src="/proxy/emoji/{digest_of(icon)}" alt=":pixelfed_heart:"' in html
        # And the photo is a described link to where it is, never loaded
        photo = "https://pixelfed.example/storage/m/_v2/1/abc/croissant.jpg"
        assert f'<a href="{photo}" rel="nofollow noopener noreferrer">' in html
        assert "A croissant on a plate" in html
        assert f'src="{photo}"' not in html
        # And nothing of the sender's markup beyond that survives
        assert "tracker.example" not in html and "onerror" not in html
        assert 'target="_blank"' not in html


async def test_a_mobilizon_comment_reply_shows_sanitised_on_both_post_pages(app_client, bakery):
    # Given a post, and a Mobilizon comment replying to it
    post = await api_post(app_client, content="Tasting on Saturday")
    services = app_client.services
    await add_remote_actor(services.store, MOBILIZON, username="carol")
    create = mobilizon_reply(MOBILIZON, services.urls.actor("bakery"), post["uri"])
    # When the owner and a visitor open the post
    for html in await _reply_pages(app_client, create, post):
        # Then the comment shows, its script gone
        assert "See you at the tasting!" in html
        assert "<script>alert" not in html
