"""Every page, meta tag, feed and poster shows what an owner typed escaped exactly once: a name,
bio, field or post with ``& < > " '`` never turns into ``&amp;amp;`` (issue #13)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html import unescape

import feedparser
import pytest

from fedi_town.read.poster import SVG_NS
from tests.conftest import create_business
from tests.outbound.conftest import write_post
from tests.read.helpers import BROWSER

pytestmark = pytest.mark.anyio

NAME = """Tom & Jerry's "Best" <Bakery>"""
BIO = """Coffee & cake <3 "fresh" 'daily'"""
POST = """Rolls & buns <hot> "today" 'only'"""
FIELD = ("Hours & days", """Mon <-> Fri "7'til 6" """.strip())
#: What text escaped twice looks like in HTML or XML.
TWICE = ("&amp;amp;", "&amp;lt;", "&amp;gt;", "&amp;quot;", "&amp;#")


def meta(html: str) -> dict[str, str]:
    """The page's <title> and its name=/property= meta tags, each unescaped once."""
    found = {"title": unescape(re.search(r"<title>(.*?)</title>", html, re.S).group(1))}
    for key, value in re.findall(r'<meta (?:name|property)="([^"]+)" content="([^"]*)"', html):
        found[key] = unescape(value)
    return found


def shown(html: str) -> str:
    """The text a reader sees in the page's body, spaces collapsed."""
    body = html.split("<body>", 1)[1]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture
async def shop(app_client):
    """A business whose name, bio, field and one post are full of characters HTML gives
    meaning to; the post written through the owner API (Markdown, then sanitised)."""
    business = await create_business(
        app_client,
        "bakery",
        display_name=NAME,
        summary=BIO,
        fields=[{"name": FIELD[0], "value": FIELD[1]}],
    )
    response = await write_post(app_client, business, content=f"{POST} #Fresh")
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(
    ("path", "texts"),
    [
        ("/", [NAME, BIO]),
        ("/@bakery", [NAME, BIO, POST, *FIELD]),
        ("/@bakery/{post}", [NAME, POST]),
        ("/@bakery/tagged/fresh", [NAME, POST]),
        ("/@bakery/poster", [NAME]),
    ],
)
async def test_every_page_shows_the_owners_text_escaped_once(app_client, shop, path, texts):
    # When a browser opens the page
    response = await app_client.get(path.format(post=shop["id"]), headers=BROWSER)
    assert response.status_code == 200
    html = response.text
    # Then nothing in it is escaped twice, and the reader sees the text as typed
    for twice in TWICE:
        assert twice not in html, twice
    for text in texts:
        assert text in shown(html)


async def test_meta_tags_carry_the_owners_text_escaped_once(app_client, shop):
    profile = meta((await app_client.get("/@bakery", headers=BROWSER)).text)
    assert profile["title"].startswith(f"{NAME} (@bakery@town.example)")
    assert profile["og:title"] == f"{NAME} (@bakery@town.example)"
    assert profile["description"] == profile["og:description"] == BIO
    post = meta((await app_client.get(f"/@bakery/{shop['id']}", headers=BROWSER)).text)
    assert post["title"].startswith(f"{NAME}: “{POST}")
    assert post["og:title"] == f"{NAME} (@bakery@town.example)"
    assert post["description"] == post["og:description"] == f"{POST} #Fresh"
    tag = meta((await app_client.get("/@bakery/tagged/fresh", headers=BROWSER)).text)
    assert tag["title"].startswith(f"#fresh · {NAME}")
    poster = meta((await app_client.get("/@bakery/poster", headers=BROWSER)).text)
    assert poster["title"].startswith(f"Follow us: {NAME}")


@pytest.mark.parametrize("path", ["/@bakery/feed.atom", "/@bakery/feed.rss"])
async def test_feeds_carry_the_owners_text_escaped_once(app_client, shop, path):
    # When a feed reader reads the feed
    parsed = feedparser.parse((await app_client.get(path)).content)
    # Then the names and titles read as typed, and the post's HTML renders to its text
    assert parsed.feed.title == NAME
    assert parsed.feed.get("subtitle", parsed.feed.get("description")) == BIO
    (entry,) = parsed.entries
    assert entry.title == f"{POST} #Fresh"
    assert entry.author == NAME
    html = entry.content[0].value if "content" in entry else entry.summary
    assert POST in unescape(re.sub(r"<[^>]+>", "", html))
    for twice in TWICE:
        assert twice not in html


async def test_the_poster_svg_carries_the_name_escaped_once(app_client, shop):
    svg = (await app_client.get("/@bakery/poster.svg")).text
    for twice in TWICE:
        assert twice not in svg
    texts = [t.text for t in ET.fromstring(svg).iter(f"{{{SVG_NS}}}text")]
    assert NAME in texts
