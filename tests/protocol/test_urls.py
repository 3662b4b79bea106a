"""protocol.urls: every URL we mint, byte for byte (Mastodon compares ids as strings)."""

from __future__ import annotations

import pytest

from fedi_town.protocol.urls import RESERVED_USERNAMES, Urls

URLS = Urls("https://town.example")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (URLS.actor("Bakery"), "https://town.example/users/Bakery"),
        (URLS.key_id("bakery"), "https://town.example/users/bakery#main-key"),
        (URLS.inbox("bakery"), "https://town.example/users/bakery/inbox"),
        (URLS.followers("bakery"), "https://town.example/users/bakery/followers"),
        (URLS.featured("bakery"), "https://town.example/users/bakery/collections/featured"),
        (URLS.featured_tags("bakery"), "https://town.example/users/bakery/collections/tags"),
        (URLS.post("bakery", 7), "https://town.example/users/bakery/statuses/7"),
        (URLS.post_activity("bakery", 7), "https://town.example/users/bakery/statuses/7/activity"),
        (URLS.post_page("bakery", 7), "https://town.example/@bakery/7"),
        (URLS.activity("bakery", 9), "https://town.example/users/bakery#activities/9"),
        (URLS.announce("town", 7), "https://town.example/users/town#announces/7"),
        (
            URLS.tag_page("bakery", "Bread Rolls"),
            "https://town.example/@bakery/tagged/bread%20rolls",
        ),
        (URLS.shared_inbox(), "https://town.example/inbox"),
        (URLS.instance_actor(), "https://town.example/actor"),
        (URLS.instance_key_id(), "https://town.example/actor#main-key"),
        (URLS.media("a.webp"), "https://town.example/media/a.webp"),
        (URLS.webfinger_template(), "https://town.example/.well-known/webfinger?resource={uri}"),
        (URLS.nodeinfo("2.1"), "https://town.example/nodeinfo/2.1"),
    ],
)
def test_each_url_is_minted_as_published(url, expected):
    assert url == expected


def test_handles_use_the_domain_with_its_port():
    urls = Urls("http://127.0.0.1:8080")
    assert urls.handle("bakery") == "@bakery@127.0.0.1:8080"
    assert urls.acct("bakery") == "acct:bakery@127.0.0.1:8080"


def test_collection_pages_live_under_the_collection():
    assert Urls.collection_page("https://t.example/c", 2) == "https://t.example/c?page=2"


def test_remote_interaction_quotes_the_uri():
    assert Urls.authorize_interaction("social.example", "https://t.example/a?b=1") == (
        "https://social.example/authorize_interaction?uri=https%3A%2F%2Ft.example%2Fa%3Fb%3D1"
    )


def test_the_instance_actor_name_is_reserved():
    assert "instance.actor" in RESERVED_USERNAMES


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("/users/bakery", "main-key"),
        ("/actor", "main-key"),
        ("/users/bakery/outbox", None),
        ("/users/bakery/statuses/7", None),
        ("/users/", None),
        ("/@bakery", None),
    ],
)
def test_an_actors_path_serves_the_main_key_fragment(path, fragment):
    # the fragment that ends the key id served at the path: URLS.key_id(x) == actor + "#" + it
    assert URLS.key_fragment_served_at(path) == fragment
    if fragment:
        assert URLS.key_id("bakery") == f"{URLS.actor('bakery')}#{fragment}"
