"""inbound.handlers.notes with polls, custom emoji and attachments: a Question from
Mastodon, Misskey, Pleroma/Akkoma and GoToSocial is kept with its options and counts, an
Update of it refreshes the counts (not an edit), its emoji are fetched once from the sender's
(loopback) server, and an image in the sender's HTML never survives. Both backends."""

from __future__ import annotations

import json

import pytest

from fedi_town.store import emojis
from tests.inbound import payloads as p
from tests.inbound.handlers.helpers import ALICE, HANDLE, MISSKEY, ZORK
from tests.inbound.helpers import add_remote_actor, handle, notification_types
from tests.media.conftest import image_bytes
from tests.peer import TestPeer

pytestmark = pytest.mark.anyio

PLEROMA = "https://pleroma.example/users/lain"


@pytest.fixture
async def peer():
    async with TestPeer.running() as running:
        yield running


async def _stored(services):
    note = await services.store.fetch_one("SELECT * FROM remote_notes")
    return note, json.loads(note["poll"]) if note["poll"] else None


@pytest.mark.parametrize(
    ("make", "author", "titles", "votes"),
    [
        (p.mastodon_question, ALICE, ["Sourdough", "Rye", "Brioche"], [4, 2, 1]),
        (p.misskey_question, MISSKEY, ["Saturday", "Sunday"], [3, 5]),
        (p.pleroma_question, PLEROMA, ["Coffee", "Tea"], [2, 0]),
        (p.gotosocial_question, ZORK, ["Cheesecake", "Lemon tart"], [1, 3]),
    ],
)
async def test_each_servers_poll_is_stored_with_its_options_and_counts_and_notified(
    services, biz, peer, make, author, titles, votes
):
    await add_remote_actor(services.store, author)
    emoji_url = peer.add_file("e.png", image_bytes("PNG", (24, 24)), "image/png")
    create = make(author, biz, handle=HANDLE, emoji_url=emoji_url)
    assert await handle(services, create) == "note stored for 1 business(es)"
    note, poll = await _stored(services)
    assert [o["title"] for o in poll["options"]] == titles
    assert [o["votes"] for o in poll["options"]] == votes
    assert "<img" not in note["content_html"]  # the sender's images, never kept
    assert json.loads(note["emojis"])[0]["url"] == emoji_url
    assert await notification_types(services.store) == ["mention"]
    kept = await emojis.by_digest(services.store, emojis.digest_of(emoji_url))
    assert kept is not None and kept.state == "ok"
    # the same Create again fetches nothing more
    await handle(services, create)
    assert peer.requests.count(("GET", "/files/e.png")) == 1


async def test_an_update_of_a_question_refreshes_its_counts_without_being_an_edit(
    services, biz, peer
):
    await add_remote_actor(services.store, ALICE)
    icon = peer.add_file("e.png", image_bytes("PNG", (24, 24)), "image/png")
    await handle(services, p.mastodon_question(ALICE, biz, handle=HANDLE, emoji_url=icon))
    update = p.mastodon_update_question(
        ALICE, biz, handle=HANDLE, emoji_url=icon, votes=(5, 4, 1), closed=False
    )
    assert await handle(services, update) == "poll counts refreshed"
    note, poll = await _stored(services)
    assert [o["votes"] for o in poll["options"]] == [5, 4, 1]
    assert poll["voters"] == 10 and poll["closed"] is False
    assert note["edited_at"] is None
    assert await handle(services, update) == "ignored: nothing changed"


async def test_a_poll_update_after_an_edit_still_refreshes_the_counts(services, biz, peer):
    # Mastodon keeps sending the last edit's "updated" with every later poll update
    await add_remote_actor(services.store, ALICE)
    icon = peer.add_file("e.png", image_bytes("PNG", (24, 24)), "image/png")
    create = p.mastodon_question(ALICE, biz, handle=HANDLE, emoji_url=icon)
    await handle(services, create)
    edit = p.mastodon_update_question(
        ALICE, biz, handle=HANDLE, emoji_url=icon, votes=(4, 2, 1), closed=False
    )
    edit["object"]["content"] = "<p>which bread on Saturday?</p>"
    edit["object"]["updated"] = "2026-11-23T11:30:00Z"
    assert await handle(services, edit) == "note edited"
    counts = p.mastodon_update_question(
        ALICE, biz, handle=HANDLE, emoji_url=icon, votes=(9, 2, 1), closed=True
    )
    counts["object"]["content"] = edit["object"]["content"]
    counts["object"]["updated"] = "2026-11-23T11:30:00Z"
    assert await handle(services, counts) == "poll counts refreshed"
    _, poll = await _stored(services)
    assert [o["votes"] for o in poll["options"]] == [9, 2, 1]


async def test_an_emoji_of_a_note_on_a_refused_icon_stays_text(services, biz, peer):
    await add_remote_actor(services.store, ALICE)
    icon = peer.add_file("e.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png")
    await handle(services, p.mastodon_question(ALICE, biz, handle=HANDLE, emoji_url=icon))
    refused = await emojis.by_digest(services.store, emojis.digest_of(icon))
    assert refused is not None and refused.state == "refused"
    note, _ = await _stored(services)
    assert ":baguette:" in note["content_html"]


async def test_the_attachments_of_a_reply_are_kept_as_links_with_descriptions(services, biz, post):
    _, post_uri = post
    await add_remote_actor(services.store, ALICE)
    create = p.mastodon_create_reply(ALICE, biz, post_uri, handle=HANDLE)
    create["object"]["tag"] = create["object"]["tag"][:2]  # no emoji: nothing to fetch
    create["object"]["attachment"] = [
        {"type": "Document", "mediaType": "image/png", "url": "https://files.example/a.png",
         "name": "A croissant, cut open"},
    ]  # fmt: skip
    await handle(services, create)
    note, poll = await _stored(services)
    assert poll is None
    assert json.loads(note["attachments"]) == [
        {
            "url": "https://files.example/a.png",
            "type": "image",
            "media_type": "image/png",
            "description": "A croissant, cut open",
        }
    ]
