"""Script and HTML injection corpus: what an owner types is shown, never run.

Each payload below goes into every field an owner writes that pages or ActivityPub
documents show: display name, bio, profile field name and value, post text, content
warning and alt text (6 fields x 31 payloads = 186 attempts per backend). Then the HTML
page and the ActivityPub document that show the field are parsed, and neither may hold a
script-capable element, an event-handler attribute, or a link to a ``javascript:``,
``data:`` or ``vbscript:`` URL. Plain-text fields of a document (``name``, alt text) are
text by definition: they may hold the payload as typed; HTML fields must be sanitised.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import pytest
from markupsafe import escape

from tests.conftest import create_business
from tests.read.helpers import AP, BROWSER, insert_media
from tests.reliability import record

pytestmark = pytest.mark.anyio

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "![x](javascript:alert(1))",
    '<iframe src="javascript:alert(1)"></iframe>',
    "<body onload=alert(1)>",
    "<style>*{background:url(javascript:alert(1))}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    '<object data="javascript:alert(1)">',
    '<embed src="javascript:alert(1)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    '<div style="x:expression(alert(1))">x</div>',
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    '<a href="&#106;avascript:alert(1)">x</a>',
    "[x](&#106;avascript:alert(1))",
    "<details open ontoggle=alert(1)>",
    "</title><script>alert(1)</script>",
    "</textarea><script>alert(1)</script><!--",
    "[x](vbscript:msgbox(1)) <a href=' javascript:alert(1)'>y</a>",
]
#: Elements that run script, load active content or change where the page goes.
ACTIVE_TAGS = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math",
    "style", "base", "textarea", "select", "link",
}  # fmt: skip
#: What the page templates themselves hold once: never more.
PAGE_OWN = {"body": 1, "input": 1, "button": 1, "link": 4}  # link: style, AP, Atom, RSS
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "content", "srcset", "poster"}
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")


class ActiveContent(HTMLParser):
    """Collects what in an HTML document could run script."""

    def __init__(self, page: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.counts: dict[str, int] = {}
        self.page = page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if self.page and tag == "script" and dict(attrs).get("type") == "application/ld+json":
            # the page's own schema.org data: data, never run; escaped so text cannot
            # close it (a payload that did would show up as a second tag here)
            self.counts["ld+json"] = self.counts.get("ld+json", 0) + 1
            if self.counts["ld+json"] == 1:
                return
        if tag in ACTIVE_TAGS and not (self.page and self.counts[tag] <= PAGE_OWN.get(tag, 0)):
            self.found.append(f"<{tag}>")
        if tag == "form" and self.counts[tag] > (1 if self.page else 0):
            self.found.append("<form>")  # one: the profile's remote-follow form
        if tag == "meta" and any(k == "http-equiv" for k, _ in attrs):
            self.found.append("<meta http-equiv>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag}[{name}]")
            if name == "style":
                self.found.append(f"{tag}[style]")
            squeezed = "".join((value or "").split()).lower()
            if name in URL_ATTRIBUTES and squeezed.startswith(BAD_SCHEMES):
                self.found.append(f"{tag}[{name}={value}]")


def active_content(html: str, page: bool = False) -> list[str]:
    parser = ActiveContent(page)
    parser.feed(html)
    parser.close()
    return parser.found


ACTOR_TYPES = {"Organization", "Person", "Service", "Application", "Group"}


def html_fields(document: Any) -> list[str]:
    """The HTML-bearing strings of an ActivityPub document: content, an actor's summary, the
    values of profile fields (PropertyValue). A Note's summary (content warning) is plain
    text, as Mastodon sends and reads it."""
    found: list[str] = []
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            keys = ["content", "value"]
            if node.get("type") in ACTOR_TYPES:
                keys.append("summary")
            for key in keys:
                if isinstance(node.get(key), str):
                    found.append(node[key])
            if isinstance(node.get("contentMap"), dict):
                found += [v for v in node["contentMap"].values() if isinstance(v, str)]
            stack += list(node.values())
        elif isinstance(node, list):
            stack += node
    return found


async def _owner(app_client: Any) -> dict[str, str]:
    created = await create_business(app_client, "bakery")
    return {"Authorization": f"Bearer {created['owner_token']}"}


async def _check(app_client: Any, field: str, payload: str, page: str, document: str) -> None:
    html_page = await app_client.get(page, headers=BROWSER)
    ap = await app_client.get(document, headers=AP)
    assert html_page.status_code == 200 and ap.status_code == 200, (page, document)
    found = active_content(html_page.text, page=True)
    for text in html_fields(ap.json()):
        found += active_content(text)
    record("read", f"script in {field}", "escaped" if not found else "ran")
    assert not found, (field, payload, found)


@pytest.mark.parametrize(
    "html",
    [
        "<p><img src=x onerror=alert(1)></p>",
        "<a href=' JavaScript:alert(1)'>x</a>",
        "<script>alert(1)</script>",
        '<a href="data:text/html,x">x</a>',
        '<p style="x">x</p>',
    ],
)
def test_the_detector_finds_active_content(html):
    # Given HTML that would run script (or restyle the page)
    # When it is inspected
    # Then something is found (so a clean result means something)
    assert active_content(html)


async def test_display_names_with_script_are_escaped(app_client):
    # Given a business
    owner = await _owner(app_client)
    post = await app_client.post(
        "/api/v1/businesses/bakery/posts", json={"content": "Hello"}, headers=owner
    )
    for payload in PAYLOADS:
        # When its display name is a script payload
        changed = await app_client.patch(
            "/api/v1/businesses/bakery", json={"display_name": payload[:100]}, headers=owner
        )
        assert changed.status_code == 200
        # Then profile and post pages and the actor show it as text
        await _check(app_client, "display name", payload, "/@bakery", "/users/bakery")
        shown = (await app_client.get("/@bakery", headers=BROWSER)).text
        assert str(escape(payload[:100])) in shown
        post_page = f"/@bakery/{post.json()['id']}"
        await _check(app_client, "display name", payload, post_page, "/users/bakery")


async def test_bios_with_script_are_sanitised(app_client):
    owner = await _owner(app_client)
    for payload in PAYLOADS:
        # When the bio is a script payload
        changed = await app_client.patch(
            "/api/v1/businesses/bakery", json={"summary": payload}, headers=owner
        )
        assert changed.status_code == 200
        # Then the profile page and the actor's summary hold no active content
        await _check(app_client, "bio", payload, "/@bakery", "/users/bakery")


async def test_profile_fields_with_script_are_escaped(app_client):
    owner = await _owner(app_client)
    for payload in PAYLOADS:
        # When a profile field's name and value are script payloads
        fields = [{"name": payload, "value": payload}]
        changed = await app_client.patch(
            "/api/v1/businesses/bakery", json={"fields": fields}, headers=owner
        )
        assert changed.status_code == 200
        # Then the profile page and the actor's PropertyValue hold no active content
        await _check(app_client, "profile field", payload, "/@bakery", "/users/bakery")


@pytest.mark.parametrize("field", ["content", "spoiler_text"])
async def test_post_texts_and_content_warnings_with_script_are_sanitised(app_client, field):
    owner = await _owner(app_client)
    for payload in PAYLOADS:
        # When a post's text (or its content warning) is a script payload
        body = {"content": "Hello", field: payload}
        post = await app_client.post("/api/v1/businesses/bakery/posts", json=body, headers=owner)
        assert post.status_code == 201, post.text
        post_id = post.json()["id"]
        # Then the post page and the Note hold no active content
        name = "post text" if field == "content" else "content warning"
        await _check(
            app_client, name, payload, f"/@bakery/{post_id}", f"/users/bakery/statuses/{post_id}"
        )


async def test_alt_texts_with_script_are_escaped(app_client):
    # Given a post with an image
    owner = await _owner(app_client)
    media_id = await insert_media(app_client)
    body = {"content": "Look", "media_ids": [str(media_id)]}
    post = await app_client.post("/api/v1/businesses/bakery/posts", json=body, headers=owner)
    assert post.status_code == 201, post.text
    post_id = post.json()["id"]
    for payload in PAYLOADS:
        # When the image's alt text is a script payload
        changed = await app_client.patch(
            f"/api/v1/businesses/bakery/media/{media_id}",
            json={"description": payload},
            headers=owner,
        )
        assert changed.status_code == 200
        # Then the post page and the Note hold no active content
        await _check(
            app_client,
            "alt text",
            payload,
            f"/@bakery/{post_id}",
            f"/users/bakery/statuses/{post_id}",
        )
        # And the Note carries the alt text as plain text, as typed
        note = (await app_client.get(f"/users/bakery/statuses/{post_id}", headers=AP)).json()
        assert note["attachment"][0]["name"] == payload.strip(), json.dumps(note)[:300]


async def test_business_facts_offers_and_events_with_script_are_escaped(app_client):
    # Given a business with hours, so its page carries its schema.org JSON-LD
    owner = await _owner(app_client)
    base = "/api/v1/businesses/bakery"
    hours = {"hours": {"mon": [["07:00", "18:00"]]}, "category": "Bakery"}
    assert (await app_client.patch(base, json=hours, headers=owner)).status_code == 200
    for payload in PAYLOADS:
        # When the notice, the service area, the price range, the street and a special
        # day's label are script payloads
        facts = {
            "notice": {"text": payload[:500]},
            "price_range": payload[:100],
            "location": {"street_address": payload[:200], "locality": payload[:100]},
            "special_hours": [{"start": "2026-12-24", "hours": [], "label": payload[:100]}],
        }
        changed = await app_client.patch(base, json=facts, headers=owner)
        assert changed.status_code == 200, changed.text
        # Then the profile page, its JSON-LD and the actor hold no active content
        await _check(app_client, "business facts", payload, "/@bakery", "/users/bakery")
        # And an offer and an event named and described by the payload show it as text
        offer = await app_client.post(
            f"{base}/offers",
            json={"title": payload[:200], "text": payload, "valid_until": "2099-01-01T00:00Z"},
            headers=owner,
        )
        event = await app_client.post(
            f"{base}/events",
            json={
                "title": payload[:200],
                "text": payload,
                "start": "2099-01-01T10:00Z",
                "end": "2099-01-01T12:00Z",
            },
            headers=owner,
        )
        assert offer.status_code == event.status_code == 201, (offer.text, event.text)
        await _check(
            app_client, "offer", payload, f"/@bakery/offers/{offer.json()['id']}", "/users/bakery"
        )
        event_id = event.json()["id"]
        await _check(
            app_client,
            "event",
            payload,
            f"/@bakery/events/{event_id}",
            f"/users/bakery/events/{event_id}",
        )
        await _check(app_client, "offers and events", payload, "/@bakery", "/users/bakery")
        for kind, created in (("offers", offer), ("events", event)):
            gone = await app_client.delete(f"{base}/{kind}/{created.json()['id']}", headers=owner)
            assert gone.status_code == 204
