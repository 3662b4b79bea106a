"""Featured hashtags and featured accounts ("feature on profile") through the Mastodon
client API: one list with the actor's ``featuredTags`` and the admin API's, endorsements
only of accounts the business follows."""

from __future__ import annotations

import pytest
from mastodon import return_types

from fedi_town.store import following
from fedi_town.store.db import now_ms
from tests.conftest import admin_headers
from tests.mastodon.flow import bearer, business_with_token, entity_gaps
from tests.outbound.conftest import add_follower

pytestmark = pytest.mark.anyio


async def _me(client, token: str) -> str:
    me = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    return str(me.json()["id"])


async def test_featuring_a_tag_shows_in_the_actor_and_counts_its_posts(app_client):
    # Given a business that posted twice with #bread and once with #cake
    _owner, token = await business_with_token(app_client)
    for text in ("Rye #bread", "Spelt #Bread", "Lemon #cake"):
        await app_client.post("/api/v1/statuses", json={"status": text}, headers=bearer(token))
    # When the app features #bread
    added = await app_client.post(
        "/api/v1/featured_tags", data={"name": "#bread"}, headers=bearer(token)
    )
    # Then it is a FeaturedTag with its count as text (as Mastodon writes it)
    assert added.status_code == 200, added.text
    tag = added.json()
    assert tag["name"] == "bread" and tag["statuses_count"] == "2"
    assert tag["last_status_at"] is not None and tag["url"].endswith("bread")
    assert entity_gaps(return_types.FeaturedTag, tag) == []
    # And the list, the account's list and the actor's featuredTags all have it
    listed = await app_client.get("/api/v1/featured_tags", headers=bearer(token))
    assert listed.json() == [tag]
    account = await app_client.get(f"/api/v1/accounts/{await _me(app_client, token)}/featured_tags")
    assert account.json() == [tag]
    collection = await app_client.get(
        "/users/bakery/collections/tags", headers={"Accept": "application/activity+json"}
    )
    assert "#bread" in collection.text
    # And the suggestions offer #cake, not #bread
    suggested = await app_client.get("/api/v1/featured_tags/suggestions", headers=bearer(token))
    assert [t["name"] for t in suggested.json()] == ["cake"]
    # When it is unfeatured, the list is empty again
    removed = await app_client.delete(f"/api/v1/featured_tags/{tag['id']}", headers=bearer(token))
    assert removed.status_code == 200 and removed.json() == {}
    assert (await app_client.get("/api/v1/featured_tags", headers=bearer(token))).json() == []


async def test_the_admin_apis_featured_tags_are_the_same_list(app_client):
    # Given featured tags set through the admin API
    _owner, token = await business_with_token(app_client)
    await app_client.patch(
        "/api/v1/businesses/bakery",
        json={"featured_tags": ["bread", "cake"]},
        headers=admin_headers(),
    )
    # When the app lists them and unfeatures #cake
    listed = await app_client.get("/api/v1/featured_tags", headers=bearer(token))
    cake = next(t for t in listed.json() if t["name"] == "cake")
    await app_client.delete(f"/api/v1/featured_tags/{cake['id']}", headers=bearer(token))
    # Then the app saw both, and the admin API now has only #bread
    assert [t["name"] for t in listed.json()] == ["bread", "cake"]
    business = await app_client.get("/api/v1/businesses/bakery", headers=admin_headers())
    assert business.json()["featured_tags"] == ["bread"]


@pytest.mark.parametrize("name", ["", "not a tag!", "#"])
async def test_a_bad_featured_tag_is_422(app_client, name):
    _owner, token = await business_with_token(app_client)
    response = await app_client.post(
        "/api/v1/featured_tags", data={"name": name}, headers=bearer(token)
    )
    assert response.status_code == 422 and "error" in response.json()


async def test_an_eleventh_featured_tag_and_an_unknown_id_are_refused(app_client):
    _owner, token = await business_with_token(app_client)
    for n in range(10):
        ok = await app_client.post(
            "/api/v1/featured_tags", data={"name": f"tag{n}"}, headers=bearer(token)
        )
        assert ok.status_code == 200, ok.text
    again = await app_client.post(
        "/api/v1/featured_tags", data={"name": "tag3"}, headers=bearer(token)
    )
    assert again.status_code == 200 and again.json()["name"] == "tag3"
    eleventh = await app_client.post(
        "/api/v1/featured_tags", data={"name": "one_more"}, headers=bearer(token)
    )
    assert eleventh.status_code == 422 and "10" in eleventh.json()["error"]
    unknown = await app_client.delete("/api/v1/featured_tags/1", headers=bearer(token))
    assert unknown.status_code == 404 and unknown.json() == {"error": "Record not found"}


async def test_featured_tags_need_their_scopes(app_client):
    _owner, token = await business_with_token(app_client, scopes="read")
    response = await app_client.post(
        "/api/v1/featured_tags", data={"name": "bread"}, headers=bearer(token)
    )
    assert response.status_code == 403
    unsigned = await app_client.get("/api/v1/featured_tags")
    assert unsigned.status_code == 401


async def test_an_account_the_business_follows_is_endorsed_and_listed(app_client):
    # Given the bakery, an account it follows and one it does not
    _owner, token = await business_with_token(app_client)
    store = app_client.services.store
    business_id = int(await _me(app_client, token))
    # (add_follower makes an actor; the business's follow of it is made accepted here)
    friend = await add_follower(store, business_id, "https://m.example/users/miller")
    stranger = await add_follower(store, business_id, "https://m.example/users/stranger")
    row = await following.insert(
        store, business_id=business_id, actor_id=friend, follow_uri="https://x/f/1", now=now_ms()
    )
    await following.set_state(store, row.id, following.ACCEPTED, now=now_ms())
    # When the app features both
    endorsed = await app_client.post(f"/api/v1/accounts/{friend}/pin", headers=bearer(token))
    refused = await app_client.post(f"/api/v1/accounts/{stranger}/endorse", headers=bearer(token))
    # Then the followed one is endorsed, the other refused as Mastodon does
    assert endorsed.status_code == 200, endorsed.text
    assert endorsed.json()["endorsed"] is True
    assert entity_gaps(return_types.Relationship, endorsed.json()) == []
    assert refused.status_code == 422 and "following" in refused.json()["error"]
    # And the endorsements, and the account's public list, name it
    own = await app_client.get("/api/v1/endorsements", headers=bearer(token))
    public = await app_client.get(f"/api/v1/accounts/{business_id}/endorsements")
    assert [a["id"] for a in own.json()] == [str(friend)]
    assert [a["id"] for a in public.json()] == [str(friend)]
    [relation] = (
        await app_client.get(f"/api/v1/accounts/relationships?id[]={friend}", headers=bearer(token))
    ).json()
    assert relation["endorsed"] is True
    # When it is unpinned, it is gone
    unpinned = await app_client.post(f"/api/v1/accounts/{friend}/unpin", headers=bearer(token))
    assert unpinned.json()["endorsed"] is False
    assert (await app_client.get("/api/v1/endorsements", headers=bearer(token))).json() == []
    # And an unknown account is 404
    missing = await app_client.post("/api/v1/accounts/42/pin", headers=bearer(token))
    assert missing.status_code == 404
