"""The admin API of the high-street directory: create, rename, read, delete; who may; bad input;
and that the directory is an actor (Service, WebFinger) but never a business of the API."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from fedi_town.schemas import SCHEMA_DIR
from fedi_town.store import directory as store_directory
from tests.conftest import admin_headers, create_business
from tests.outbound.conftest import add_follower, table_count

pytestmark = pytest.mark.anyio

PATH = "/api/v1/admin/directory"
AP = {"Accept": "application/activity+json"}


async def put(client, headers=None, **body):
    return await client.put(PATH, json=body, headers=headers or admin_headers())


async def test_the_admin_creates_the_directory_and_reads_it_back(app_client):
    # When the admin creates the directory
    response = await put(app_client, username="town", display_name="Town High Street")
    # Then it exists, with a handle people can follow and a summary saying what it is
    assert response.status_code == 201, response.text
    assert response.headers["location"] == PATH
    body = response.json()
    assert body["handle"] == "@town@town.example"
    assert body["actor_id"] == "https://town.example/users/town"
    assert "boosts the public posts of every business" in body["summary"]
    assert body["followers_count"] == 0 and body["members_count"] == 0
    schema = json.loads((SCHEMA_DIR / "directory.schema.json").read_text())
    Draft202012Validator(schema).validate(body)
    # And GET answers the same
    again = await app_client.get(PATH, headers=admin_headers())
    assert again.status_code == 200 and again.json() == body


async def test_get_is_404_when_there_is_no_directory(app_client):
    response = await app_client.get(PATH, headers=admin_headers())
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_put_again_renames_and_tells_followers(app_client):
    # Given the directory, followed by someone
    await put(app_client, username="town", display_name="Town")
    store = app_client.services.store
    found = await store_directory.find(store)
    await add_follower(store, found.id, "https://m.example/users/ann")
    # When the admin renames it
    response = await put(
        app_client, username="Town", display_name="Springfield High Street", summary="All of us"
    )
    # Then it keeps its username and id, with the new name and summary
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["username"] == "town" and body["id"] == str(found.id)
    assert body["display_name"] == "Springfield High Street" and body["summary"] == "All of us"
    # And its follower gets an Update of the actor, a Service named anew
    row = await store.fetch_one(
        "SELECT body FROM outgoing_activities WHERE type = 'Update' AND business_id = :b",
        {"b": found.id},
    )
    update = json.loads(row["body"])
    assert update["object"]["type"] == "Service"
    assert update["object"]["name"] == "Springfield High Street"


async def test_another_username_once_created_is_422_naming_the_field(app_client):
    await put(app_client, username="town", display_name="Town")
    response = await put(app_client, username="street", display_name="Street")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["pointer"] == "/username"
    assert (await app_client.get(PATH, headers=admin_headers())).json()["username"] == "town"


async def test_a_username_a_business_holds_is_409_and_nothing_is_written(app_client):
    await create_business(app_client, "town")
    response = await put(app_client, username="TOWN", display_name="Town")
    assert response.status_code == 409
    assert await table_count(app_client.services.store, "businesses") == 1


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"display_name": "Town"}, "/"),
        ({"username": "town"}, "/"),
        ({"username": "town", "display_name": ""}, "/display_name"),
        ({"username": "town", "display_name": "   "}, "/display_name"),
        ({"username": "town", "display_name": "Town", "summary": 5}, "/summary"),
        ({"username": "town", "display_name": "Town", "extra": 1}, "/"),
        ({"username": "no spaces", "display_name": "Town"}, "/username"),
        ({"username": "inbox", "display_name": "Town"}, "/username"),
        ({"username": "x" * 31, "display_name": "Town"}, "/username"),
    ],
)
async def test_bad_input_is_422_naming_the_field(app_client, body, pointer):
    response = await app_client.put(PATH, json=body, headers=admin_headers())
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == pointer
    assert await table_count(app_client.services.store, "businesses") == 0


async def test_only_the_admin_reaches_the_directory(app_client):
    # Given a business owner
    owner = await create_business(app_client, "bakery")
    headers = {"Authorization": f"Bearer {owner['owner_token']}"}
    # Then the owner's token is refused (403), and no token at all is 401
    assert (await put(app_client, headers, username="town", display_name="T")).status_code == 403
    assert (await app_client.get(PATH, headers=headers)).status_code == 403
    assert (await app_client.delete(PATH, headers=headers)).status_code == 403
    assert (await app_client.get(PATH)).status_code == 401
    assert await store_directory.find(app_client.services.store) is None


async def test_the_directory_is_a_service_actor_found_by_webfinger(app_client):
    await put(app_client, username="town", display_name="Town High Street")
    # The actor document: a Service (a bot badge on Mastodon), approving followers itself
    actor = (await app_client.get("/users/town", headers=AP)).json()
    assert actor["type"] == "Service"
    assert actor["manuallyApprovesFollowers"] is False
    assert actor["name"] == "Town High Street"
    assert "boosts the public posts" in actor["summary"]
    assert actor["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    # WebFinger finds it like a business
    finger = await app_client.get(
        "/.well-known/webfinger", params={"resource": "acct:town@town.example"}
    )
    assert finger.status_code == 200
    [self_link] = [link for link in finger.json()["links"] if link["rel"] == "self"]
    assert self_link["href"] == "https://town.example/users/town"


async def test_the_directory_is_not_a_business_of_the_api_nor_of_nodeinfo(app_client):
    # Given a business and the directory
    await create_business(app_client, "bakery")
    await put(app_client, username="town", display_name="Town")
    # Then the businesses API neither lists it nor reaches it
    listed = (await app_client.get("/api/v1/businesses", headers=admin_headers())).json()
    assert [b["username"] for b in listed["items"]] == ["bakery"] and listed["total"] == 1
    for method in ("GET", "PATCH", "DELETE"):
        response = await app_client.request(
            method, "/api/v1/businesses/town", headers=admin_headers(), json={}
        )
        assert response.status_code == 404, method
    # And NodeInfo counts one user: the business, not the automated directory
    nodeinfo = (await app_client.get("/nodeinfo/2.1")).json()
    assert nodeinfo["usage"]["users"]["total"] == 1


async def test_no_token_logs_in_as_the_directory(app_client):
    await put(app_client, username="town", display_name="Town")
    row = await app_client.services.store.fetch_one(
        "SELECT owner_token_hash FROM businesses WHERE kind = 'directory'"
    )
    assert row["owner_token_hash"] == store_directory.NO_LOGIN
    for token in ("ftown_", f"ftown_{store_directory.NO_LOGIN}", store_directory.NO_LOGIN):
        response = await app_client.get(
            "/api/v1/businesses/town", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401


async def test_delete_removes_it_tells_followers_and_keeps_the_name(app_client):
    # Given the directory with a follower
    await put(app_client, username="town", display_name="Town")
    store = app_client.services.store
    found = await store_directory.find(store)
    await add_follower(store, found.id, "https://m.example/users/ann")
    # When the admin deletes it
    response = await app_client.delete(PATH, headers=admin_headers())
    # Then it is gone: 404 here, a Delete to its follower, and its actor a bare suspended
    # one (its key still served, so the Delete can be verified) until that is delivered
    assert response.status_code == 204
    assert (await app_client.get(PATH, headers=admin_headers())).status_code == 404
    delivering = await app_client.get("/users/town", headers=AP)
    assert delivering.status_code == 200 and delivering.json()["suspended"] is True
    await store.execute("UPDATE deliveries SET state = 'failed' WHERE state = 'pending'")
    assert (await app_client.get("/users/town", headers=AP)).status_code == 410
    kinds = await store.fetch_all(
        "SELECT type FROM outgoing_activities WHERE business_id = :b", {"b": found.id}
    )
    assert [r["type"] for r in kinds] == ["Delete"]
    # And its username cannot name a new one, while another can
    assert (await put(app_client, username="town", display_name="T")).status_code == 409
    assert (await put(app_client, username="street", display_name="S")).status_code == 201
    assert (await app_client.delete(PATH, headers=admin_headers())).status_code == 204
    assert (await app_client.delete(PATH, headers=admin_headers())).status_code == 404
