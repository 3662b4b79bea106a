"""store.document_inputs: stored rows to the typed inputs of the protocol builders.

The documents it makes are the ones the read side serves, byte for byte, so outbound/ can
deliver them without importing read/.
"""

from __future__ import annotations

import pytest

from fedi_town.store import document_inputs, reads
from tests.conftest import create_business
from tests.read.helpers import (
    AP,
    business,
    insert_interaction,
    insert_post,
    insert_remote_actor,
    services,
    set_profile,
)

pytestmark = pytest.mark.anyio

ACTOR = "https://town.example/users/bakery"


async def test_the_actor_document_is_what_the_actor_url_serves(app_client):
    # Given a business with a website and a field
    await create_business(app_client)
    await set_profile(app_client, "bakery", website="https://bakery.example", phone="+49 30 1234")
    owner = await business(app_client, "bakery")
    svc = services(app_client)
    # When its actor document is built from the stored row
    built = await document_inputs.actor_document(svc.store, svc.urls, owner)
    # Then it is the document the actor URL serves
    served = (await app_client.get(ACTOR, headers=AP)).json()
    assert built == served
    assert [f["name"] for f in built["attachment"]] == ["Website", "Phone"]


async def test_note_inputs_keep_the_order_and_batch_the_counts(app_client):
    # Given two posts, the second liked once
    await create_business(app_client)
    first = await insert_post(app_client)
    second = await insert_post(app_client, visibility="unlisted")
    alice, _ = await insert_remote_actor(app_client)
    await insert_interaction(app_client, second, alice, "like")
    owner = await business(app_client, "bakery")
    svc = services(app_client)
    posts = [await reads.post_by_id(svc.store, owner.id, i) for i in (second, first)]
    # When their inputs are built together
    inputs = await document_inputs.note_inputs(
        svc.store, svc.urls, owner, [p for p in posts if p is not None]
    )
    # Then each input is its post's, in the order asked, with its own counts
    assert [n.id for n in inputs] == [f"{ACTOR}/statuses/{second}", f"{ACTOR}/statuses/{first}"]
    assert [n.likes_count for n in inputs] == [1, 0]
    assert [n.visibility for n in inputs] == ["unlisted", "public"]


async def test_the_note_document_is_what_the_note_url_serves(app_client):
    await create_business(app_client)
    post_id = await insert_post(app_client)
    owner = await business(app_client, "bakery")
    svc = services(app_client)
    post = await reads.post_by_id(svc.store, owner.id, post_id)
    assert post is not None
    built = await document_inputs.note_document(svc.store, svc.urls, owner, post)
    served = (await app_client.get(f"{ACTOR}/statuses/{post_id}", headers=AP)).json()
    assert built == served


async def test_the_instance_actor_carries_the_name_and_key_given(app_client):
    svc = services(app_client)
    doc = document_inputs.instance_actor_document(svc.urls, name="Town", public_key_pem="PEM")
    assert doc["type"] == "Application"
    assert doc["name"] == "Town"
    assert doc["publicKey"]["publicKeyPem"] == "PEM"
    assert doc == (await app_client.get("/actor", headers=AP)).json() | {
        "name": "Town",
        "publicKey": doc["publicKey"],
    }
