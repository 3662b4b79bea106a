"""The inbox page: replies and mentions with an answer form under each, the other tabs,
paging, hostile content, and another business's inbox (both backends)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from fedi_town.services import Services
from fedi_town.store import businesses
from fedi_town.store import emojis as store_emojis
from fedi_town.store.emojis import CachedEmoji, digest_of
from tests.conftest import _app_client, admin_headers, make_settings
from tests.inbound import payloads as p
from tests.inbound.helpers import add_post, add_remote_actor, handle, outgoing
from tests.webapp.kit import owner_of

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"


class Tags(HTMLParser):
    """Every tag name and attribute of a page, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and dict(attrs).get("src", "").startswith("/static/"):
            return  # the app's own scripts, the only ones its CSP allows
        self.names.append(tag)
        self.attributes += attrs


@pytest.fixture
async def open_client(database_url, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    """``app_client`` that may fetch from loopback test peers (the note replied to)."""
    settings = make_settings(database_url, tmp_path, allow_private_addresses=True)
    async with _app_client(Services.from_settings(settings)) as client:
        yield client


async def reply_from(client, author: str, *, text: str = "Fresh bread today") -> dict[str, Any]:
    """A Mastodon reply by ``author`` to a post of the bakery, handled as the worker would."""
    services = client.services
    business = await businesses.by_username(services.store, "bakery")
    _, post_uri = await add_post(services, business, text)
    await add_remote_actor(services.store, author)
    create = p.mastodon_create_reply(
        author, services.urls.actor("bakery"), post_uri, handle="@bakery@town.example"
    )
    await handle(services, create)
    return create


async def test_a_reply_shows_who_sent_it_and_an_answer_form_under_it(app_client):
    # Given a reply from Alice to one of the bakery's posts
    user = await owner_of(app_client, "bakery")
    create = await reply_from(app_client, ALICE)
    # When the owner opens the inbox
    page = await user.get("/app/bakery/inbox")
    # Then the reply is there: who, what, a link to it, and a form to answer it
    assert page.status_code == 200
    html = page.text
    assert "Alice" in html and "@alice@mastodon.example" in html and "replied to you" in html
    assert "#<span>croissant</span>" in html  # the sanitised HTML, shown as HTML
    assert 'href="https://mastodon.example/@alice/113561290000000001"' in html
    assert f'name="in_reply_to" value="{create["object"]["id"]}"' in html
    assert '<label for="answer-' in html and "Your answer to Alice" in html
    assert 'Answer<span class="sr-only"> Alice</span>' in html
    compose = "/app/bakery/compose?in_reply_to=https%3A%2F%2Fmastodon.example%2Fusers%2Falice"
    assert compose in html and "Answer with photos…" in html


async def test_a_quote_of_a_post_shows_with_the_quoting_post(open_client, peer):
    # Given alice quoting a post of the bakery, her quote granted
    user = await owner_of(open_client, "bakery")
    services = open_client.services
    business = await businesses.by_username(services.store, "bakery")
    _, post_uri = await add_post(services, business)
    alice = peer.actor("alice").uri
    await add_remote_actor(services.store, alice)
    quote = peer.add_note("alice", "<p>Best rye in town</p>", quote=post_uri)
    assert await handle(services, p.mastodon_quote_request(alice, post_uri, quote["id"])) == (
        "quote granted"
    )
    # When the owner opens the inbox, then the quote is among replies and mentions
    html = (await user.get("/app/bakery/inbox")).text
    assert "quoted your post" in html and "Best rye in town" in html


async def test_answering_a_reply_posts_to_its_author_and_comes_back_with_a_sentence(
    open_client, peer
):
    # Given a note by alice on a remote server that replies to the bakery's post
    client = open_client
    user = await owner_of(client, "bakery")
    services = client.services
    business = await businesses.by_username(services.store, "bakery")
    _, post_uri = await add_post(services, business)
    alice = peer.actor("alice").uri
    await add_remote_actor(services.store, alice)
    create = peer.reply(post_uri, services.urls.actor("bakery"), "<p>Any rye today?</p>")
    await handle(services, create)
    note_uri = create["object"]["id"]
    page = await user.get("/app/bakery/inbox")
    assert "Any rye today?" in page.text
    # When the owner answers it right there
    answer = await user.submit(
        "/app/bakery/inbox/answer",
        {
            "in_reply_to": note_uri,
            "name": "Alice",
            "content": "Yes, until noon!",
            "visibility": "public",
            "show": "replies",
            "max_id": "",
        },
    )
    # Then the page comes back (PRG) with a sentence
    assert answer.status_code == 303
    assert answer.headers["location"] == "/app/bakery/inbox?show=replies"
    back = await user.get(answer.headers["location"])
    assert "Your answer to Alice is posted" in back.text
    # And the post replies to the note, mentions its author and is on its way to them
    posts = await client.get("/api/v1/businesses/bakery/posts", headers=admin_headers())
    [mine] = [x for x in posts.json()["items"] if x["in_reply_to"]]
    assert mine["in_reply_to"] == note_uri
    assert mine["mentions"][0]["href"] == alice
    assert mine["content_html"].count("Yes, until noon!") == 1
    [created] = await outgoing(services.store, "Create")
    assert created["body"]["object"]["inReplyTo"] == note_uri
    assert f"{peer.base}/inbox" in created["inboxes"]


async def test_a_private_note_is_answered_privately_unless_the_owner_chooses(app_client):
    # Given a direct message from someone on Misskey
    user = await owner_of(app_client, "bakery")
    services = app_client.services
    misskey = "https://misskey.example/users/9kx"
    await add_remote_actor(services.store, misskey, username="kumi")
    await handle(
        services,
        p.misskey_mention(misskey, services.urls.actor("bakery"), handle="@bakery@town.example"),
    )
    # When the owner opens the inbox
    page = await user.get("/app/bakery/inbox")
    # Then it says it was private and the answer goes to them only unless changed
    assert "mentioned you" in page.text and "sent privately" in page.text
    assert '<option value="direct" selected>Only Kumi</option>' in page.text


async def test_an_answer_the_api_refuses_shows_its_sentence_by_the_answer(app_client):
    # Given a reply whose note cannot be fetched (no network in this test)
    user = await owner_of(app_client, "bakery")
    create = await reply_from(app_client, ALICE)
    await user.get("/app/bakery/inbox")
    # When the owner answers it
    page = await user.submit(
        "/app/bakery/inbox/answer",
        {
            "in_reply_to": create["object"]["id"],
            "name": "Alice",
            "content": "Tomorrow at 8",
            "visibility": "public",
            "show": "replies",
        },
    )
    # Then the inbox comes back with the API's sentence under that answer, text kept
    assert page.status_code == 422
    assert "could not be fetched" in page.text
    assert 'class="field-error"' in page.text and ">Tomorrow at 8</textarea>" in page.text
    posts = await app_client.get("/api/v1/businesses/bakery/posts", headers=admin_headers())
    assert [x for x in posts.json()["items"] if x["in_reply_to"]] == []


async def test_hostile_reply_content_is_shown_inert(app_client):
    # Given a reply carrying a script and an event handler, from someone with a tag in
    # their name, and the stored copy tampered with after it was cleaned
    user = await owner_of(app_client, "bakery")
    services = app_client.services
    await reply_from(app_client, ALICE)
    await services.store.execute(
        "UPDATE remote_actors SET display_name = :n WHERE uri = :u",
        {"n": '<img src=x onerror="alert(3)">Eve', "u": ALICE},
    )
    await services.store.execute(
        "UPDATE remote_notes SET content_html = :h",
        {"h": '<p>Hi<script>alert(1)</script><a href="javascript:x()" onclick="x()">a</a></p>'},
    )
    # When the owner opens the inbox
    page = await user.get("/app/bakery/inbox")
    # Then none of it can run: no script, no handler, no javascript: link, the name as text
    html = page.text
    tags = Tags()
    tags.feed(html)
    assert "script" not in tags.names and "img" not in tags.names
    assert [a for a in tags.attributes if a[0].startswith("on")] == []
    assert [a for a in tags.attributes if (a[1] or "").lower().startswith("javascript:")] == []
    assert "&lt;img src=x onerror=&#34;alert(3)&#34;&gt;Eve" in html
    assert "<p>Hi" in html


async def test_the_tabs_show_follows_and_likes_apart_from_replies(app_client):
    # Given a follow, a like and a reply
    user = await owner_of(app_client, "bakery")
    services = app_client.services
    business = await businesses.by_username(services.store, "bakery")
    _, post_uri = await add_post(services, business)
    fan = "https://gts.example/users/fan"
    await add_remote_actor(services.store, fan)
    await handle(services, p.mastodon_follow(fan, services.urls.actor("bakery")))
    await handle(services, p.mastodon_like(fan, post_uri))
    await reply_from(app_client, ALICE)
    # When the owner opens each tab
    replies = await user.get("/app/bakery/inbox")
    follows = await user.get("/app/bakery/inbox?show=follows")
    likes = await user.get("/app/bakery/inbox?show=likes")
    # Then each shows its own kind, and the tab is marked as the current one
    assert "replied to you" in replies.text and "started following" not in replies.text
    assert "Fan" in follows.text and "started following you" in follows.text
    assert "liked your post" in likes.text and "replied to you" not in likes.text
    assert 'href="/app/bakery/inbox?show=likes" aria-current="page"' in likes.text
    post_id = post_uri.rsplit("/", 1)[-1]
    assert f'href="/app/bakery/posts/{post_id}"' in likes.text


async def test_the_inbox_pages_with_older_links(app_client):
    # Given more likes than fit on one page
    user = await owner_of(app_client, "bakery")
    services = app_client.services
    business = await businesses.by_username(services.store, "bakery")
    _, post_uri = await add_post(services, business)
    for i in range(21):
        fan = f"https://m{i}.example/users/fan{i}"
        await add_remote_actor(services.store, fan)
        await handle(services, p.mastodon_like(fan, post_uri))
    # When the owner follows "Older"
    first = await user.get("/app/bakery/inbox?show=likes")
    assert first.text.count('class="card inbox-item"') == 20
    older = first.text.split('<nav class="pager"')[1].split('href="')[-1].split('"')[0]
    second = await user.get(older.replace("&amp;", "&"))
    # Then the oldest like is on the second page, with a way back to the newest
    assert second.text.count('class="card inbox-item"') == 1
    assert "Fan0" in second.text and ">Newest</a>" in second.text


async def test_a_bad_page_marker_says_so(app_client):
    user = await owner_of(app_client, "bakery")
    page = await user.get("/app/bakery/inbox?max_id=abc")
    assert page.status_code == 400
    assert 'class="problem"' in page.text


async def test_another_businesss_inbox_is_404(app_client):
    # Given two businesses, and the owner of the first
    user = await owner_of(app_client, "bakery")
    await owner_of(app_client, "cafe", login="carl")
    # When she opens the other one's inbox or answers through it
    page = await user.get("/app/cafe/inbox")
    await user.get("/app/bakery/inbox")
    answer = await user.submit("/app/cafe/inbox/answer", {"content": "x", "in_reply_to": ALICE})
    # Then there is nothing there for her
    assert page.status_code == 404
    assert answer.status_code == 404


async def test_signed_out_the_inbox_asks_to_sign_in_first(app_client):
    page = await app_client.get("/app/bakery/inbox")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/app/bakery/inbox"


async def test_reactions_and_content_warnings_show_their_custom_emoji(app_client):
    # Given a Misskey reaction (custom emoji, kept in the cache), a unicode EmojiReact, and a
    # Misskey mention whose content warning names a custom emoji
    user = await owner_of(app_client, "bakery")
    services = app_client.services
    business = await businesses.by_username(services.store, "bakery")
    _, post_uri = await add_post(services, business)
    sharkey = "https://sharkey.example/users/9x1y2z3a4b"
    pleroma = "https://pleroma.example/users/carol"
    misskey = "https://misskey.example/users/9x1y2z"
    for actor in (sharkey, pleroma, misskey):
        await add_remote_actor(services.store, actor)
    icon = "https://sharkey.example/files/blobcat.png"
    kept = CachedEmoji(digest_of(icon), icon, "ok", "image/png", "emoji/b.png", 16, 16, None)
    await store_emojis.record(services.store, kept, 1)
    react = {
        "@context": p.AS,
        "type": "Like",
        "id": "https://sharkey.example/likes/1",
        "actor": sharkey,
        "object": post_uri,
        "content": ":blobcat@.:",
        "_misskey_reaction": ":blobcat@.:",
        "tag": [{"type": "Emoji", "name": ":blobcat:", "icon": {"type": "Image", "url": icon}}],
    }
    await handle(services, react)
    await handle(
        services,
        {
            "@context": p.AS,
            "type": "EmojiReact",
            "id": "https://pleroma.example/activities/2",
            "actor": pleroma,
            "object": post_uri,
            "content": "🍞",
        },
    )
    mention = p.misskey_mention(misskey, services.urls.actor("bakery"), handle="@bakery")
    mention["object"]["summary"] = "spoilers :blobcat: <b>bold</b>"
    mention["object"]["tag"].append(react["tag"][0])
    await handle(services, mention)
    # When the owner opens the likes and the replies tabs
    likes = (await user.get("/app/bakery/inbox?show=likes")).text
    replies = (await user.get("/app/bakery/inbox")).text
    # Then the reactions show as the cached picture and the unicode emoji
    path = f"/proxy/emoji/{digest_of(icon)}"
    assert f'reacted <img class="emoji" src="{path}" alt=":blobcat:"' in likes
    assert "reacted 🍞 to your post" in likes
    # And the content warning shows the emoji picture, its markup as text
    assert f'spoilers <img class="emoji" src="{path}" alt=":blobcat:"' in replies
    assert "bold" in replies and "<b>bold</b>" not in replies
