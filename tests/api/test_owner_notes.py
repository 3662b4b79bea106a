"""The notifications API's replies and mentions: what the owner needs to answer one (the
note's id, who it was addressed to, its content warning), both backends."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from fedi_town.schemas import SCHEMA_DIR
from tests.api.helpers import setup_bakery
from tests.inbound import payloads as p
from tests.inbound.helpers import add_post, add_remote_actor, handle

pytestmark = pytest.mark.anyio


async def test_a_replys_note_says_whom_it_was_for_and_its_warning(app_client):
    # Given a public reply with a content warning, and a direct mention from Misskey
    services, business, owner = await setup_bakery(app_client)
    _, post_uri = await add_post(services, business)
    alice = "https://mastodon.example/users/alice"
    kumi = "https://misskey.example/users/9kx"
    await add_remote_actor(services.store, alice)
    await add_remote_actor(services.store, kumi)
    biz = services.urls.actor("bakery")
    reply = p.mastodon_create_reply(alice, biz, post_uri, handle="@bakery@town.example")
    reply["object"]["summary"] = "food talk"
    await handle(services, reply)
    await handle(services, p.misskey_mention(kumi, biz, handle="@bakery@town.example"))
    # When the owner reads replies and mentions
    answer = await app_client.get(
        "/api/v1/businesses/bakery/notifications?types=reply,mention", headers=owner
    )
    # Then each note says who it was addressed to, its warning and when it was written
    mention, replied = answer.json()["items"]
    assert replied["note"]["visibility"] == "public"
    assert replied["note"]["summary"] == "food talk"
    assert replied["note"]["published_at"] == "2026-11-23T11:59:30Z"
    assert mention["note"]["visibility"] == "direct"
    assert mention["note"]["summary"] is None
    schema = json.loads((SCHEMA_DIR / "notification-page.schema.json").read_text())
    assert list(Draft202012Validator(schema).iter_errors(answer.json())) == []
