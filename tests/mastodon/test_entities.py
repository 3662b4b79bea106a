"""Mastodon's entities from stored rows: times, visibility words, media metadata."""

from __future__ import annotations

from fedi_town.mastodon import entities
from fedi_town.protocol.urls import Urls
from fedi_town.services import Services
from fedi_town.settings import Settings
from fedi_town.store.media import Media


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
