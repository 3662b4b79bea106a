"""outbound.quotes, through the owner API: the quote policy of a business and of a post
shows in the Note, and deleting a post or narrowing a policy revokes the quotes it no longer
allows (the stamp stops answering, a Delete of it goes out)."""

from __future__ import annotations

import pytest

from fedi_town.store import actors as store_actors
from fedi_town.store import quotes as quote_store
from fedi_town.store.actors import ActorProfile
from fedi_town.store.db import now_ms
from tests.outbound.conftest import activities, owner, write_post

pytestmark = pytest.mark.anyio

AP = {"Accept": "application/activity+json"}
ANN = "https://m.example/users/ann"  # a follower (the bakery fixture)
ZED = "https://z.example/users/zed"  # not a follower


async def _stranger(store) -> int:
    actor = await store_actors.upsert(
        store,
        ActorProfile(uri=ZED, type="Person", inbox=f"{ZED}/inbox", username="zed"),
        now=now_ms(),
    )
    return actor.id


async def _granted(app_client, post, actor_id: int, n: int) -> str:
    """A stamp for a quote of ``post`` by ``actor_id``; its URL."""
    store = app_client.services.store
    stamp, _ = await quote_store.grant(
        store,
        business_id=await _business_id(app_client),
        post_id=int(post["id"]),
        actor_id=actor_id,
        quote_uri=f"https://q.example/notes/{n}",
        request_uri=f"https://q.example/qr/{n}",
        now=now_ms(),
    )
    return app_client.services.urls.quote_stamp("bakery", int(post["id"]), stamp.id)


async def _business_id(app_client) -> int:
    return int(await app_client.services.store.fetch_val("SELECT id FROM businesses"))


async def test_a_post_created_with_its_own_policy_says_so_in_the_note(app_client, bakery):
    post = (await write_post(app_client, bakery, content="Hi", quote_policy="followers")).json()
    assert post["quote_policy"] == "followers"
    note = (await app_client.get(post["uri"], headers=AP)).json()
    assert note["interactionPolicy"] == {
        "canQuote": {"automaticApproval": [f"{bakery['actor_id']}/followers"]}
    }


async def test_an_unknown_policy_is_refused_by_name(app_client, bakery):
    response = await write_post(app_client, bakery, content="Hi", quote_policy="everyone")
    assert response.status_code == 422
    assert "quote_policy" in response.text
    patched = await app_client.patch(
        "/api/v1/businesses/bakery", json={"quote_policy": "all"}, headers=owner(bakery)
    )
    assert patched.status_code == 422


async def test_narrowing_a_post_to_followers_revokes_only_the_strangers_quote(app_client, bakery):
    store = app_client.services.store
    post = (await write_post(app_client, bakery, content="Rye today")).json()
    ann = int(await store.fetch_val("SELECT id FROM remote_actors WHERE uri = :u", {"u": ANN}))
    kept = await _granted(app_client, post, ann, 1)
    gone = await _granted(app_client, post, await _stranger(store), 2)
    assert (await app_client.get(gone, headers=AP)).status_code == 200
    # When the owner lets only followers quote the post
    edited = await app_client.patch(
        f"/api/v1/businesses/bakery/posts/{post['id']}",
        json={"quote_policy": "followers"},
        headers=owner(bakery),
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["quote_policy"] == "followers"
    # Then the stranger's stamp is gone and revoked by a Delete; the follower's stands
    assert (await app_client.get(gone, headers=AP)).status_code == 404
    stamp = (await app_client.get(kept, headers=AP)).json()
    assert stamp["type"] == "QuoteAuthorization" and stamp["interactionTarget"] == post["uri"]
    deletes = [a for a in await activities(store, "Delete") if a["object"] == gone]
    assert len(deletes) == 1
    rows = await store.fetch_all(
        "SELECT d.inbox FROM deliveries d JOIN outgoing_activities a ON a.id = d.activity_id "
        "WHERE a.type = 'Delete'"
    )
    assert f"{ZED}/inbox" in [r["inbox"] for r in rows]


async def test_deleting_a_post_revokes_every_quote_of_it(app_client, bakery):
    store = app_client.services.store
    post = (await write_post(app_client, bakery, content="Rye today")).json()
    business_id = await _business_id(app_client)
    url = await _granted(app_client, post, await _stranger(store), 1)
    response = await app_client.delete(
        f"/api/v1/businesses/bakery/posts/{post['id']}", headers=owner(bakery)
    )
    assert response.status_code == 204
    assert await quote_store.of_business(store, business_id) == []
    assert [a["object"] for a in await activities(store, "Delete") if a["object"] == url] == [url]


async def test_the_business_default_shows_in_its_view_and_its_notes(app_client, bakery):
    patched = await app_client.patch(
        "/api/v1/businesses/bakery", json={"quote_policy": "nobody"}, headers=owner(bakery)
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["quote_policy"] == "nobody"
    post = (await write_post(app_client, bakery, content="Hi")).json()
    assert post["quote_policy"] is None
    note = (await app_client.get(post["uri"], headers=AP)).json()
    assert note["interactionPolicy"] == {"canQuote": {"automaticApproval": [bakery["actor_id"]]}}
