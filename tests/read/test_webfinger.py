"""WebFinger and host-meta: handles resolve to actor ids, for businesses and the instance actor."""

from __future__ import annotations

import pytest

from tests.conftest import admin_headers, create_business

pytestmark = pytest.mark.anyio


async def test_acct_resource_resolves_to_the_actor_id(app_client):
    # Given a business
    await create_business(app_client, "bakery")
    # When its handle is looked up
    response = await app_client.get(
        "/.well-known/webfinger", params={"resource": "acct:bakery@town.example"}
    )
    # Then the JRD names it, with a self link equal to the actor id
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jrd+json"
    jrd = response.json()
    assert jrd["subject"] == "acct:bakery@town.example"
    assert jrd["aliases"] == ["https://town.example/@bakery", "https://town.example/users/bakery"]
    self_link = next(link for link in jrd["links"] if link["rel"] == "self")
    assert self_link == {
        "rel": "self",
        "type": "application/activity+json",
        "href": "https://town.example/users/bakery",
    }
    rel = "http://webfinger.net/rel/profile-page"
    profile = next(link for link in jrd["links"] if link["rel"] == rel)
    assert profile["href"] == "https://town.example/@bakery"
    assert profile["type"] == "text/html"


async def test_the_unencoded_query_mastodon_sends_is_understood(app_client):
    await create_business(app_client, "bakery")
    response = await app_client.get(
        "/.well-known/webfinger?resource=acct:bakery@town.example",
        headers={"Accept": "application/jrd+json, application/json"},
    )
    assert response.status_code == 200


async def test_resource_matches_case_insensitively_and_answers_in_canonical_case(app_client):
    # Given a business whose owner chose capitals
    await create_business(app_client, "CornerBakery")
    # When someone looks it up in another case
    response = await app_client.get(
        "/.well-known/webfinger", params={"resource": "acct:cornerbakery@TOWN.EXAMPLE"}
    )
    # Then the answer is in the owner's spelling
    assert response.status_code == 200
    jrd = response.json()
    assert jrd["subject"] == "acct:CornerBakery@town.example"
    assert "https://town.example/users/CornerBakery" in jrd["aliases"]


@pytest.mark.parametrize(
    "resource",
    [
        "https://town.example/users/bakery",
        "https://town.example/@bakery",
        "bakery@town.example",
        "acct:@bakery@town.example",
    ],
)
async def test_actor_url_profile_url_and_bare_handle_resolve_too(app_client, resource):
    await create_business(app_client, "bakery")
    response = await app_client.get("/.well-known/webfinger", params={"resource": resource})
    assert response.status_code == 200
    assert response.json()["subject"] == "acct:bakery@town.example"


async def test_base_url_with_a_port_puts_the_port_in_the_handle(make_client):
    # Given an instance on a non-default port
    async with make_client(base_url="http://127.0.0.1:8000") as client:
        await create_business(client, "bakery")
        # When the handle with the port is looked up
        response = await client.get(
            "/.well-known/webfinger", params={"resource": "acct:bakery@127.0.0.1:8000"}
        )
        # Then it resolves, and the actor id carries the port
        assert response.status_code == 200
        jrd = response.json()
        assert jrd["subject"] == "acct:bakery@127.0.0.1:8000"
        self_link = next(link for link in jrd["links"] if link["rel"] == "self")
        assert self_link["href"] == "http://127.0.0.1:8000/users/bakery"
        # And without the port it is another host: not ours
        other = await client.get(
            "/.well-known/webfinger", params={"resource": "acct:bakery@127.0.0.1"}
        )
        assert other.status_code == 404


async def test_instance_actor_is_resolvable_for_the_round_trip(app_client):
    response = await app_client.get(
        "/.well-known/webfinger", params={"resource": "acct:instance.actor@town.example"}
    )
    assert response.status_code == 200
    jrd = response.json()
    assert jrd["subject"] == "acct:instance.actor@town.example"
    self_link = next(link for link in jrd["links"] if link["rel"] == "self")
    assert self_link["href"] == "https://town.example/actor"
    by_url = await app_client.get(
        "/.well-known/webfinger", params={"resource": "https://town.example/actor"}
    )
    assert by_url.json()["subject"] == "acct:instance.actor@town.example"


async def test_unknown_user_is_404_problem(app_client):
    response = await app_client.get(
        "/.well-known/webfinger", params={"resource": "acct:nobody@town.example"}
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_another_host_is_404(app_client):
    await create_business(app_client, "bakery")
    response = await app_client.get(
        "/.well-known/webfinger", params={"resource": "acct:bakery@elsewhere.example"}
    )
    assert response.status_code == 404


async def test_deleted_business_is_410(app_client):
    # Given a business that was deleted
    await create_business(app_client, "bakery")
    deleted = await app_client.delete("/api/v1/businesses/bakery", headers=admin_headers())
    assert deleted.status_code == 204
    # When its handle is looked up
    response = await app_client.get(
        "/.well-known/webfinger", params={"resource": "acct:bakery@town.example"}
    )
    # Then it is gone (Mastodon deletes its copy)
    assert response.status_code == 410
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"resource": ""},
        {"resource": "bakery"},
        {"resource": "acct:bakery"},
        {"resource": "mailto:x@town.example"},
    ],
)
async def test_missing_or_malformed_resource_is_400(app_client, params):
    response = await app_client.get("/.well-known/webfinger", params=params)
    assert response.status_code == 400
    assert response.json()["status"] == 400


async def test_webfinger_answers_carry_cors_and_caching(app_client):
    await create_business(app_client, "bakery")
    found = await app_client.get(
        "/.well-known/webfinger", params={"resource": "acct:bakery@town.example"}
    )
    missing = await app_client.get(
        "/.well-known/webfinger", params={"resource": "acct:nobody@town.example"}
    )
    for response in (found, missing):
        assert response.headers["access-control-allow-origin"] == "*"
        assert "max-age=" in response.headers["cache-control"]


async def test_host_meta_xrd_points_at_webfinger(app_client):
    response = await app_client.get("/.well-known/host-meta")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/xrd+xml"
    assert response.headers["access-control-allow-origin"] == "*"
    from xml.etree import ElementTree

    root = ElementTree.fromstring(response.content)
    link = root.find("{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link")
    assert link is not None
    assert link.get("rel") == "lrdd"
    assert link.get("template") == "https://town.example/.well-known/webfinger?resource={uri}"


async def test_host_meta_json_is_the_same_template(app_client):
    response = await app_client.get("/.well-known/host-meta.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jrd+json"
    assert response.json() == {
        "links": [
            {"rel": "lrdd", "template": "https://town.example/.well-known/webfinger?resource={uri}"}
        ]
    }
