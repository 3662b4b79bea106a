"""Mastodon's entities from stored rows: times, visibility words, media metadata."""

from __future__ import annotations

from typing import Any

import pytest
from mastodon import return_types

from fedi_town.mastodon import entities
from fedi_town.protocol.urls import Urls
from fedi_town.services import Services
from fedi_town.settings import Settings
from fedi_town.store import businesses, posts, social
from fedi_town.store.db import now_ms
from fedi_town.store.media import Media
from tests.inbound.helpers import add_remote_actor
from tests.mastodon.flow import bearer, business_with_token, entity_gaps
from tests.store.conftest import a_post
from tests.store.test_timeline import content

ALICE = "https://mastodon.example/users/alice"


def test_times_carry_milliseconds_and_z():
    assert entities.iso(1_700_000_000_123) == "2023-11-14T22:13:20.123Z"
    assert entities.iso(None) is None
    assert entities.date_only(1_700_000_000_123) == "2023-11-14"


def test_followers_only_is_mastodons_private_both_ways():
    assert entities.VISIBILITY_OUT["followers"] == "private"
    assert entities.VISIBILITY_IN["private"] == "followers"


def test_likes_and_boosts_are_favourites_and_reblogs_and_reports_are_left_out():
    assert entities.NOTIFICATION_TYPES["like"] == "favourite"
    assert entities.NOTIFICATION_TYPES["boost"] == "reblog"
    assert entities.NOTIFICATION_TYPES["reply"] == "mention"
    assert "report" not in entities.NOTIFICATION_TYPES


def test_an_image_is_its_own_preview_with_original_and_small_sizes():
    settings = Settings(base_url="https://town.example")
    services = Services(settings=settings, store=None, urls=Urls(settings.base_url))  # type: ignore[arg-type]
    media = Media(
        id=7,
        business_id=1,
        post_id=None,
        path="abc.jpg",
        media_type="image/jpeg",
        size_bytes=100,
        width=400,
        height=300,
        blurhash="LEHV6nWB2yk8",
        description="",
        position=0,
        created_at=0,
    )
    found = entities.media_attachment(services, media)
    assert found["id"] == "7" and found["url"] == found["preview_url"]
    assert found["meta"]["original"]["size"] == "400x300"
    assert found["meta"]["small"]["aspect"] == 400 / 300
    assert found["description"] is None


@pytest.mark.anyio
async def test_a_post_that_quotes_carries_mastodon_45s_quote(app_client):
    # Given the bakery's app, a public note of alice elsewhere, a public post of the
    # florist here, and posts of the bakery quoting each, plus one quoting an unknown note
    _owner, token = await business_with_token(app_client)
    _other, florist_token = await business_with_token(app_client, "florist")
    store = app_client.services.store
    bakery = await businesses.by_username(store, "bakery")
    alice = await add_remote_actor(store, ALICE)
    note_uri = f"{ALICE}/statuses/1"
    note_id = await social.insert_note(
        store, uri=note_uri, actor_id=alice.id, content=content("Quote me"), now=now_ms()
    )
    florist_post = await app_client.post(
        "/api/v1/statuses", data={"status": "Tulips"}, headers=bearer(florist_token)
    )
    quoting_note = await a_post(store, bakery, quote_uri=note_uri)
    quoting_local = await a_post(store, bakery, quote_uri=florist_post.json()["uri"])
    quoting_unknown = await a_post(store, bakery, quote_uri=f"{ALICE}/statuses/gone")
    plain = await a_post(store, bakery)

    async def quote_of(post_id: int) -> dict[str, Any] | None:
        read = await app_client.get(f"/api/v1/statuses/{post_id}", headers=bearer(token))
        assert read.status_code == 200, read.text
        assert entity_gaps(return_types.Status, read.json()) == []
        found: dict[str, Any] | None = read.json()["quote"]
        return found

    # When nothing was answered yet, the quote is pending, with no status
    assert await quote_of(quoting_note.id) == {"state": "pending", "quoted_status": None}
    assert await quote_of(plain.id) is None
    # When the quoted authors accept
    for post in (quoting_note, quoting_local, quoting_unknown):
        await posts.set_quote_answer(store, post.id, state="accepted", authorization="x")
    # Then the quote holds the quoted Status: alice's note, or the florist's post
    accepted = await quote_of(quoting_note.id)
    assert accepted is not None and accepted["state"] == "accepted"
    assert accepted["quoted_status"]["id"] == str(note_id)
    assert entity_gaps(return_types.Status, accepted["quoted_status"]) == []
    local = await quote_of(quoting_local.id)
    assert local is not None and local["quoted_status"]["id"] == florist_post.json()["id"]
    # And a note not stored here cannot be shown: unauthorized, as Mastodon says
    assert await quote_of(quoting_unknown.id) == {"state": "unauthorized", "quoted_status": None}

    # When a post quotes the bakery's quote, the inner quote is shallow (an id only)
    florist = await businesses.by_username(store, "florist")
    nested = await a_post(store, florist, quote_uri=quoting_note.uri)
    await posts.set_quote_answer(store, nested.id, state="accepted", authorization="y")
    outer = await quote_of(nested.id)
    assert outer is not None
    assert outer["quoted_status"]["quote"] == {
        "state": "accepted",
        "quoted_status_id": str(note_id),
    }

    # When alice revokes her stamp, or the florist deletes its post
    await posts.set_quote_answer(store, quoting_note.id, state="revoked", authorization=None)
    await app_client.delete(
        f"/api/v1/statuses/{florist_post.json()['id']}", headers=bearer(florist_token)
    )
    # Then the quotes say so
    assert await quote_of(quoting_note.id) == {"state": "revoked", "quoted_status": None}
    assert await quote_of(quoting_local.id) == {"state": "deleted", "quoted_status": None}
