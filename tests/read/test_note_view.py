"""read/note_view.py: a received note's emoji, poll and attachments as every page shows them."""

from __future__ import annotations

import pytest

from fedi_town.read import note_view
from fedi_town.store import emojis as store_emojis
from fedi_town.store.emojis import CachedEmoji, digest_of

pytestmark = pytest.mark.anyio

KEPT = "https://misskey.example/emoji/blobcat.png"
REFUSED = "https://misskey.example/emoji/huge.png"


async def test_only_emoji_the_cache_kept_become_pictures(store):
    # Given one icon kept and one refused (too big)
    ok = CachedEmoji(digest_of(KEPT), KEPT, "ok", "image/png", "emoji/k.png", 16, 16, None)
    no = CachedEmoji(digest_of(REFUSED), REFUSED, "refused", None, None, None, None, "too big")
    await store_emojis.record(store, ok, 1)
    await store_emojis.record(store, no, 1)
    emojis = [
        {"shortcode": "blobcat", "url": KEPT},
        {"shortcode": "huge", "url": REFUSED},
        {"shortcode": "unseen", "url": "https://misskey.example/emoji/new.png"},
    ]
    # When the paths are looked up and the HTML rendered
    kept = await note_view.kept_emoji(store, [emojis, "not a list"])
    html = note_view.with_emoji("<p>:blobcat: :huge: :unseen:</p>", emojis, kept)
    # Then only the kept one is an image from this site
    assert kept == {KEPT: f"/proxy/emoji/{digest_of(KEPT)}"}
    assert html.count("<img") == 1 and 'alt=":blobcat:"' in html
    assert ":huge: :unseen:" in html
    assert await note_view.kept_emoji(store, [[]]) == {}


def test_a_poll_reads_as_shares_and_closes_by_time():
    stored = {
        "options": [{"title": "Rye", "votes": 1}, {"title": "Spelt", "votes": 3}],
        "multiple": False,
        "ends_at": 1000,
        "closed": False,
        "voters": None,
    }
    # When shown after it ended
    shown = note_view.poll_display(note_view.poll_json(stored, 2000), lambda iso: "then")
    # Then it is closed, with each option's share and the count of votes
    assert shown is not None
    assert shown["closed"] is True and shown["when"] == "then" and shown["count"] == "4 votes"
    assert [(o["title"], o["percent"]) for o in shown["options"]] == [("Rye", 25), ("Spelt", 75)]
    assert note_view.poll_display(None, str) is None


def test_attachments_are_http_links_with_a_label_and_description():
    shown = note_view.attachments_display(
        [
            {"url": "https://gts.example/a.jpg", "media_type": "image/jpeg", "description": "A"},
            {"url": "https://gts.example/b.bin", "media_type": None},
            {"url": "javascript:alert(1)", "media_type": "image/png"},
            "junk",
        ]
    )
    assert shown == [
        {"url": "https://gts.example/a.jpg", "label": "Picture", "description": "A"},
        {"url": "https://gts.example/b.bin", "label": "File", "description": ""},
    ]
    assert note_view.attachments_display("junk") == []
