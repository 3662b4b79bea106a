"""The business's posts in the owner's app (both backends): the list with counts and reach,
one post with its replies, likes, boosts and delivery per server in words, and editing,
deleting (with a confirmation page) and pinning, all without JavaScript."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from typing import Any

import pytest

from fedi_town.store import emojis as store_emojis
from fedi_town.store.db import now_ms
from fedi_town.store.emojis import CachedEmoji, digest_of
from tests.conftest import admin_headers, create_business
from tests.inbound import payloads as p
from tests.inbound.helpers import add_remote_actor, handle
from tests.webapp.kit import AppUser, owner_of
from tests.webapp.labels import named_fields, unlabelled

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"
BOB = "https://gts.example/users/bob"


async def api_post(app_client: Any, username: str = "bakery", **body: Any) -> dict[str, Any]:
    """A post written through the admin API."""
    answer = await app_client.post(
        f"/api/v1/businesses/{username}/posts",
        json={"content": "Fresh bread", **body},
        headers=admin_headers(),
    )
    assert answer.status_code == 201, answer.text
    post: dict[str, Any] = answer.json()
    return post


async def api_get(app_client: Any, post_id: str, username: str = "bakery") -> Any:
    return await app_client.get(
        f"/api/v1/businesses/{username}/posts/{post_id}", headers=admin_headers()
    )


def clock(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M")


async def test_posts_are_listed_newest_first_with_counts_reach_and_scheduled_marked(
    app_client, bakery
):
    # Given a bakery with followers on two servers, a post of theirs and one for tomorrow
    user = await owner_of(app_client, "bakery", create=False)
    sent = await api_post(app_client, content="Rye is back")
    await api_post(app_client, content="Stollen tomorrow", scheduled_at="2099-01-01T07:00:00Z")
    store = app_client.services.store
    await store.execute(
        "UPDATE deliveries SET state = 'done', attempts = 1, done_at = :now "
        "WHERE host = 'm.example'",
        {"now": now_ms()},
    )
    await add_remote_actor(store, ALICE)
    await handle(app_client.services, p.mastodon_like(ALICE, sent["uri"]))
    # When the owner opens her posts
    page = await user.get("/app/bakery/posts")
    # Then the scheduled one comes first, marked, and the sent one shows counts and reach
    assert page.status_code == 200
    text = unescape(page.text)
    assert text.index("Stollen tomorrow") < text.index("Rye is back")
    assert re.search(r"Scheduled</strong> for \w{3} 1 Jan, 07:00", text)
    assert "<strong>1</strong> like" in text and "<strong>0</strong> replies" in text
    assert "Reached 1 of 2 servers, still trying 1." in text


async def test_the_list_pages_with_older_posts(app_client):
    user = await owner_of(app_client, "bakery")
    for number in range(21):
        await api_post(app_client, content=f"Post number {number}")
    first = await user.get("/app/bakery/posts")
    assert "Post number 20" in first.text and "Post number 0<" not in first.text
    older = re.search(r'href="(/app/bakery/posts\?max_id=\d+)"', first.text)
    assert older, "no link to older posts"
    second = await user.get(older.group(1))
    assert "Post number 0<" in second.text and "Post number 20" not in second.text
    assert "Back to the newest" in second.text


async def test_a_post_shows_its_replies_likes_boosts_and_delivery_in_words(app_client, bakery):
    # Given a sent post: one server took it, the other answered 503 and is tried again
    user = await owner_of(app_client, "bakery", create=False)
    post = await api_post(app_client, content="Try the spelt")
    store, services = app_client.services.store, app_client.services
    now = now_ms()
    await store.execute(
        "UPDATE deliveries SET state = 'done', attempts = 1, last_status = 202, done_at = :now "
        "WHERE host = 'm.example'",
        {"now": now},
    )
    await store.execute(
        "UPDATE deliveries SET attempts = 2, last_status = 503, next_attempt_at = :later "
        "WHERE host = 'solo.example'",
        {"later": now + 600_000},
    )
    # And Alice replied and liked it, Bob boosted it
    biz = services.urls.actor("bakery")
    for actor in (ALICE, BOB):
        await add_remote_actor(store, actor)
    await handle(services, p.mastodon_create_reply(ALICE, biz, post["uri"], handle="@bakery"))
    await handle(services, p.mastodon_like(ALICE, post["uri"]))
    await handle(services, p.mastodon_announce(BOB, biz, post["uri"]))
    # When the owner opens the post
    page = await user.get(f"/app/bakery/posts/{post['id']}")
    text = unescape(page.text)
    # Then she sees the reply with its author and a link to it, who liked and who boosted
    assert page.status_code == 200
    replies = text.split("<h2>Replies", 1)[1].split("<h2>Liked by", 1)[0]
    assert "Alice" in replies and "@alice@mastodon.example" in replies
    assert "croissant" in replies and "<script" not in replies
    assert 'href="https://mastodon.example/@alice/113561290000000001"' in replies
    liked = text.split("<h2>Liked by", 1)[1].split("<h2>Boosted by", 1)[0]
    boosted = text.split("<h2>Boosted by", 1)[1]
    assert "Alice" in liked and "Bob" not in liked
    assert "Bob" in boosted and "@bob@gts.example" in boosted
    # And where it went, in words
    assert "Reached 1 of 2 servers, still trying 1." in text
    assert f"Delivered at {clock(now)}" in text
    assert f"Trying again at {clock(now + 600_000)}: the server had a problem (answer 503)" in text


async def test_a_post_is_edited_through_a_form(app_client):
    # Given a post with a photo
    user = await owner_of(app_client, "bakery")
    post = await api_post(app_client, content="Fresh bred")
    # When the owner opens its edit page and fixes the text and adds a warning
    form = await user.get(f"/app/bakery/posts/{post['id']}/edit")
    assert form.status_code == 200 and "Fresh bred</textarea>" in form.text
    done = await user.submit(
        f"/app/bakery/posts/{post['id']}/edit",
        {"content": "Fresh bread", "spoiler_text": "food"},
        follow=True,
    )
    # Then the post changed, and she is back on it with "Saved."
    assert "Saved." in done.text
    changed = (await api_get(app_client, post["id"])).json()
    assert (changed["content"], changed["spoiler_text"]) == ("Fresh bread", "food")
    assert changed["edited_at"] is not None


async def test_an_edit_the_api_refuses_keeps_the_text_and_says_why(app_client):
    user = await owner_of(app_client, "bakery")
    post = await api_post(app_client)
    await user.get(f"/app/bakery/posts/{post['id']}/edit")
    answer = await user.submit(f"/app/bakery/posts/{post['id']}/edit", {"content": "x" * 5001})
    assert answer.status_code == 422
    assert "Your text has 5001 characters; the most is 5000." in answer.text
    assert "x" * 5001 + "</textarea>" in answer.text
    assert (await api_get(app_client, post["id"])).json()["content"] == "Fresh bread"


async def test_a_scheduled_post_can_be_moved_to_another_time(app_client):
    user = await owner_of(app_client, "bakery", timezone="Europe/Berlin")
    post = await api_post(app_client, scheduled_at="2099-03-01T06:00:00Z")
    form = await user.get(f"/app/bakery/posts/{post['id']}/edit")
    assert 'value="2099-03-01"' in form.text and 'value="07:00"' in form.text  # Berlin time
    await user.submit(
        f"/app/bakery/posts/{post['id']}/edit",
        {"content": "Fresh bread", "schedule_date": "2099-03-01", "schedule_time": "08:15"},
    )
    moved = (await api_get(app_client, post["id"])).json()
    assert moved["scheduled_at"].startswith("2099-03-01T07:15:00")


async def test_delete_asks_first_then_deletes(app_client):
    # Given a post
    user = await owner_of(app_client, "bakery")
    post = await api_post(app_client)
    # When the owner taps Delete, she is asked first, and nothing is gone yet
    ask = await user.get(f"/app/bakery/posts/{post['id']}/delete")
    assert ask.status_code == 200
    assert "Delete this post?" in ask.text and "Yes, delete this post" in ask.text
    assert (await api_get(app_client, post["id"])).status_code == 200
    # When she confirms
    done = await user.submit(f"/app/bakery/posts/{post['id']}/delete", {}, follow=True)
    # Then the post is gone and she is back on her list
    assert done.url.path == "/app/bakery/posts" and "Deleted." in done.text
    assert (await api_get(app_client, post["id"])).status_code == 404


async def test_a_post_is_pinned_and_unpinned(app_client):
    user = await owner_of(app_client, "bakery")
    post = await api_post(app_client)
    page = await user.get(f"/app/bakery/posts/{post['id']}")
    assert "Pin to your profile" in page.text
    pinned = await user.submit(
        f"/app/bakery/posts/{post['id']}/pin", {"action": "pin"}, follow=True
    )
    assert "Pinned" in pinned.text and "Unpin from your profile" in pinned.text
    assert (await api_get(app_client, post["id"])).json()["pinned"] is True
    await user.submit(f"/app/bakery/posts/{post['id']}/pin", {"action": "unpin"})
    assert (await api_get(app_client, post["id"])).json()["pinned"] is False


async def test_a_post_that_cannot_be_pinned_says_why(app_client):
    user = await owner_of(app_client, "bakery")
    post = await api_post(app_client, visibility="followers")
    await user.get(f"/app/bakery/posts/{post['id']}")
    answer = await user.submit(
        f"/app/bakery/posts/{post['id']}/pin", {"action": "pin"}, follow=True
    )
    assert "only public and unlisted posts can be pinned" in answer.text
    assert (await api_get(app_client, post["id"])).json()["pinned"] is False


async def test_a_post_of_another_business_is_404_on_every_page_and_form(app_client):
    # Given the bakery's owner, and a post of the cafe
    user = await owner_of(app_client, "bakery")
    await create_business(app_client, "cafe")
    theirs = await api_post(app_client, "cafe")
    await user.get("/app/bakery/posts")
    # When she asks for it under her business or under theirs
    for base in ("/app/bakery/posts", "/app/cafe/posts"):
        for suffix in ("", "/edit", "/delete"):
            page = await user.get(f"{base}/{theirs['id']}{suffix}")
            assert page.status_code == 404, (base, suffix)
    await user.get("/app/bakery/posts")
    token = user.csrf()
    for suffix, data in (("/delete", {}), ("/pin", {"action": "pin"}), ("/edit", {"content": "x"})):
        answer = await user.submit(f"/app/bakery/posts/{theirs['id']}{suffix}", data, csrf=token)
        assert answer.status_code == 404, suffix
    # Then the cafe's post is untouched
    kept = (await api_get(app_client, theirs["id"], "cafe")).json()
    assert kept["content"] == "Fresh bread" and kept["pinned"] is False
    assert (await user.get("/app/bakery/posts/nonsense")).status_code == 404


async def test_every_field_on_the_post_pages_has_a_label(app_client):
    user: AppUser = await owner_of(app_client, "bakery")
    post = await api_post(app_client, scheduled_at="2099-03-01T06:00:00Z")
    for path in ("/posts", f"/posts/{post['id']}", f"/posts/{post['id']}/edit"):
        page = await user.get(f"/app/bakery{path}")
        assert page.status_code == 200, path
        assert unlabelled(page.text) == [], path
    edit = await user.get(f"/app/bakery/posts/{post['id']}/edit")
    assert named_fields(edit.text) == ["content", "spoiler_text", "schedule_date", "schedule_time"]


QUESTIONS = {
    "mastodon": (ALICE, p.mastodon_question, "baguette", "Sourdough"),
    "misskey": (
        "https://misskey.example/users/9x1y2z",
        p.misskey_question,
        "blobcat_bread",
        "Sunday",
    ),
    "pleroma": ("https://pleroma.example/users/carol", p.pleroma_question, "akko_coffee", None),
    "gotosocial": (BOB, p.gotosocial_question, None, None),
}


@pytest.mark.parametrize("server", list(QUESTIONS))
async def test_a_reply_shows_its_emoji_poll_and_attachments_on_the_owners_post_page(
    app_client, bakery, server
):
    # Given a post and a reply with a poll and a custom emoji, in each server's shape, whose
    # emoji picture the cache kept
    actor, make, code, option = QUESTIONS[server]
    user = await owner_of(app_client, "bakery", create=False)
    post = await api_post(app_client, content="Which bread?")
    services = app_client.services
    await add_remote_actor(services.store, actor)
    icon = f"https://{actor.split('/')[2]}/emoji/{server}.png"
    create = make(actor, services.urls.actor("bakery"), handle="@bakery", emoji_url=icon)
    create["object"]["inReplyTo"] = post["uri"]
    await store_emojis.record(
        services.store,
        CachedEmoji(digest_of(icon), icon, "ok", "image/png", "emoji/e.png", 16, 16, None),
        1,
    )
    await handle(services, create)
    # When the owner opens the post
    text = (await user.get(f"/app/bakery/posts/{post['id']}")).text
    replies = text.split("<h2>Replies", 1)[1].split("<h2>Liked by", 1)[0]
    # Then the reply shows the emoji as the picture from this site, the poll and the files
    tag = create["object"]["tag"]
    codes = [t["name"].strip(":") for t in tag if t.get("type") == "Emoji"]
    for shortcode in codes:
        assert f'src="/proxy/emoji/{digest_of(icon)}" alt=":{shortcode}:"' in replies
    assert code is None or code in codes
    assert '<div class="poll">' in replies and 'class="poll-title"' in replies
    if option:
        assert f'<span class="poll-title">{option}</span>' in replies
    for file in create["object"].get("attachment") or []:
        assert f'<a href="{file["url"]}" rel="nofollow noopener noreferrer">' in replies
    # And nothing of the sender's markup but the text survives
    assert "tracker.example" not in replies and "<script" not in replies
