"""store.emojis: what came of fetching each custom emoji icon, once per URL."""

from __future__ import annotations

import pytest

from fedi_town.store import emojis
from fedi_town.store.db import now_ms
from fedi_town.store.emojis import CachedEmoji

pytestmark = pytest.mark.anyio

URL = "https://cdn.example/emoji/baguette.png"


def test_the_digest_is_the_sha256_of_the_url_in_hex():
    digest = emojis.digest_of(URL)
    assert len(digest) == 64 and set(digest) <= set("0123456789abcdef")
    assert digest != emojis.digest_of(URL + "?v=2")


async def test_the_first_answer_about_an_icon_is_kept(store):
    digest = emojis.digest_of(URL)
    ok = CachedEmoji(digest, URL, "ok", "image/png", f"emoji/{digest}.png", 32, 32, None)
    await emojis.record(store, ok, now_ms())
    refused = CachedEmoji(digest, URL, "refused", None, None, None, None, "too big")
    await emojis.record(store, refused, now_ms())
    assert await emojis.by_digest(store, digest) == ok


async def test_known_answers_only_for_the_digests_it_has(store):
    digest = emojis.digest_of(URL)
    refused = CachedEmoji(digest, URL, "refused", None, None, None, None, "private address")
    await emojis.record(store, refused, now_ms())
    other = emojis.digest_of("https://cdn.example/other.png")
    assert await emojis.known(store, [digest, other]) == {digest: refused}
    assert await emojis.known(store, []) == {}
