"""read.feeds: a business's public posts as Atom and RSS, read back the way a feed reader
would (feedparser): titles, links, dates, content escaped once, attachments, never a
followers-only post."""

from __future__ import annotations

from datetime import UTC, datetime

import feedparser
import pytest

from fedi_town.protocol.documents import Attachment, NoteInput
from fedi_town.read.feeds import entry_title, xml_text
from tests.conftest import admin_headers, create_business
from tests.read.helpers import BROWSER, business, insert_media, insert_post, services

pytestmark = pytest.mark.anyio

BASE = "https://town.example"
FEEDS = [
    ("/@bakery/feed.atom", "application/atom+xml"),
    ("/@bakery/feed.rss", "application/rss+xml"),
]


def note(content_html: str, summary: str | None = None, **extra: object) -> NoteInput:
    return NoteInput(
        id=f"{BASE}/users/bakery/statuses/1",
        attributed_to=f"{BASE}/users/bakery",
        followers=f"{BASE}/users/bakery/followers",
        url=f"{BASE}/@bakery/1",
        content_html=content_html,
        published_ms=0,
        visibility="public",
        summary=summary,
        **extra,  # type: ignore[arg-type]
    )


def test_an_entry_is_titled_by_its_first_line_cut_at_a_word():
    # Given posts of several shapes, When their titles are made, Then each is plain text
    assert entry_title(note("<p>Coffee &amp; cake</p><p>From 3pm</p>")) == "Coffee & cake"
    assert entry_title(note("<p>Rye<br>and spelt</p>")) == "Rye"
    long = "<p>" + "sourdough " * 20 + "</p>"
    title = entry_title(note(long), limit=30)
    assert title == "sourdough sourdough sourdough…"
    assert entry_title(note("<p>Spoiler</p>", summary="Prices up")) == "Prices up"
    image = Attachment(f"{BASE}/media/a.png", "image/png", "A loaf of rye")
    assert entry_title(note("", attachments=(image,))) == "A loaf of rye"
    assert entry_title(note("")) == "Post"


def test_characters_xml_cannot_carry_are_dropped():
    assert xml_text("bell\x07 and\x00 tab\t line\n") == "bell and tab\t line\n"


@pytest.mark.parametrize(("path", "media_type"), FEEDS)
async def test_a_feed_lists_the_public_posts_newest_first_with_links_dates_and_html(
    app_client, path, media_type
):
    # Given a business with two public posts, an unlisted one, and posts nobody else may read
    await create_business(app_client, "bakery", display_name="Tom & Jerry's <Bakery>")
    first = await insert_post(app_client, content_html="<p>Coffee &amp; cake</p><p>From 3pm</p>")
    await insert_post(app_client, content_html="<p>Only for followers</p>", visibility="followers")
    await insert_post(app_client, content_html="<p>A direct message</p>", visibility="direct")
    await insert_post(app_client, content_html="<p>Scheduled</p>", published_at=None)
    await insert_post(app_client, content_html="<p>Deleted</p>", deleted_at=1)
    second = await insert_post(app_client, content_html="<p>Rye &lt;3 <b>today</b></p>")
    unlisted = await insert_post(
        app_client, content_html="<p>Quiet news</p>", visibility="unlisted"
    )
    # When a feed reader fetches the feed
    response = await app_client.get(path)
    # Then it is the right kind of document, cacheable, and parses without complaint
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=300"
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    # And the feed is the business, named once-escaped, linking to its page
    assert parsed.feed.title == "Tom & Jerry's <Bakery>"
    assert parsed.feed.link == f"{BASE}/@bakery"
    # And the entries are the public and unlisted posts, newest first, nothing else
    ids = [e.id for e in parsed.entries]
    assert ids == [f"{BASE}/users/bakery/statuses/{n}" for n in (unlisted, second, first)]
    texts = " ".join(
        e.get("content", [{}])[0].get("value", e.get("summary", "")) for e in parsed.entries
    )
    for hidden in ("Only for followers", "A direct message", "Scheduled", "Deleted"):
        assert hidden not in texts and hidden not in response.text
    # And each entry reads as its post: title, page link, time, HTML escaped exactly once
    entry = parsed.entries[2]
    assert entry.title == "Coffee & cake"
    assert entry.link == f"{BASE}/@bakery/{first}"
    published = datetime(*entry.published_parsed[:6], tzinfo=UTC)
    post_row = await services(app_client).store.fetch_val(
        "SELECT published_at FROM posts WHERE id = :id", {"id": first}
    )
    assert published.timestamp() == post_row // 1000
    html = entry.content[0].value if "content" in entry else entry.summary
    assert html == "<p>Coffee &amp; cake</p><p>From 3pm</p>"
    assert "<title>Coffee &amp; cake</title>" in response.text  # text: escaped once for XML
    assert parsed.entries[1].title == "Rye <3 today"
    assert parsed.entries[0].author == "Tom & Jerry's <Bakery>"


async def test_the_atom_feed_says_when_entries_were_edited(app_client):
    # Given a post published, then edited later
    await create_business(app_client, "bakery")
    at = 1_795_132_800_000
    await insert_post(
        app_client, content_html="<p>Rolls</p>", published_at=at, edited_at=at + 3_600_000
    )
    # When the Atom feed is read
    parsed = feedparser.parse((await app_client.get("/@bakery/feed.atom")).content)
    # Then the entry keeps its publication time and says when it changed
    (entry,) = parsed.entries
    assert entry.published == "2026-11-20T00:00:00+00:00"
    assert entry.updated == "2026-11-20T01:00:00+00:00"
    # And the feed is as recent as its newest change (the entry, or the profile after it)
    assert parsed.feed.updated_parsed >= entry.updated_parsed


@pytest.mark.parametrize(("path", "media_type"), FEEDS)
async def test_attachments_are_enclosures_with_their_type_and_size(app_client, path, media_type):
    # Given a post with an image
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client, content_html="<p>Look</p>")
    await insert_media(app_client, post_id=post_id, path="ab/cd/rye.png", description="Rye")
    # When the feed is read
    parsed = feedparser.parse((await app_client.get(path)).content)
    # Then the image is the entry's enclosure, with its URL, type and length
    (enclosure,) = parsed.entries[0].enclosures
    assert enclosure.href == f"{BASE}/media/ab/cd/rye.png"
    assert enclosure.type == "image/png"
    assert enclosure.length == str(len(b"\x89PNG\r\n\x1a\nfake"))


@pytest.mark.parametrize(("path", "media_type"), FEEDS)
async def test_a_feed_of_a_business_without_posts_is_valid_and_dated_by_the_profile(
    app_client, path, media_type
):
    await create_business(app_client, "bakery")
    response = await app_client.get(path)
    parsed = feedparser.parse(response.content)
    assert response.status_code == 200 and not parsed.bozo
    assert parsed.entries == []
    owner = await business(app_client, "bakery")
    modified = datetime.strptime(response.headers["last-modified"], "%a, %d %b %Y %H:%M:%S GMT")
    assert int(modified.replace(tzinfo=UTC).timestamp()) == owner.updated_at // 1000


async def test_a_reader_that_has_the_feed_gets_304_until_a_post_changes_it(app_client):
    # Given a reader that fetched the feed once
    await create_business(app_client, "bakery")
    await insert_post(app_client, content_html="<p>Bagels</p>")
    first = await app_client.get("/@bakery/feed.atom")
    etag = first.headers["etag"]
    # When it asks again with the ETag, Then it is told nothing changed
    again = await app_client.get("/@bakery/feed.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    # When the business posts, Then the same question gets the new feed
    await insert_post(app_client, content_html="<p>Pretzels</p>")
    changed = await app_client.get("/@bakery/feed.atom", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "Pretzels" in changed.text


@pytest.mark.parametrize(("path", "media_type"), FEEDS)
async def test_unknown_and_deleted_businesses_have_no_feed(app_client, path, media_type):
    assert (await app_client.get(path)).status_code == 404
    await create_business(app_client, "bakery")
    assert (await app_client.get(path.replace("bakery", "BAKERY"))).status_code == 301
    await app_client.delete("/api/v1/businesses/bakery", headers=admin_headers())
    assert (await app_client.get(path)).status_code == 410


async def test_the_profile_page_links_its_feeds_in_the_head_and_visibly(app_client):
    await create_business(app_client, "bakery", display_name="Tom & Jerry's")
    html = (await app_client.get("/@bakery", headers=BROWSER)).text
    head = html.split("</head>")[0]
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Tom &amp; Jerry&#39;s (Atom)"'
        f' href="{BASE}/@bakery/feed.atom">' in head
    )
    assert (
        '<link rel="alternate" type="application/rss+xml" title="Tom &amp; Jerry&#39;s (RSS)"'
        f' href="{BASE}/@bakery/feed.rss">' in head
    )
    body = html.split("</head>")[1]
    assert f'href="{BASE}/@bakery/feed.atom"' in body
    assert f'href="{BASE}/@bakery/poster"' in body
