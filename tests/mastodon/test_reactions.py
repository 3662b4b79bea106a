"""Favourites, reblogs and the home timeline through the Mastodon client API: the owner
API's own likes and boosts (``outbound.reactions``) and timeline (``store.timeline``); both
backends."""

from __future__ import annotations

from dataclasses import replace

import pytest
from mastodon import return_types

from fedi_town.store import given as given_store
from fedi_town.store import social
from fedi_town.store import timeline as timeline_store
from fedi_town.store.db import now_ms
from tests.inbound.helpers import add_remote_actor
from tests.mastodon.flow import bearer, business_with_token, entity_gaps
from tests.store.test_timeline import content

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"
BOB = "https://mastodon.example/users/bob"


async def _post(app_client, token: str, text: str, visibility: str = "public") -> dict:
    answer = await app_client.post(
        "/api/v1/statuses", data={"status": text, "visibility": visibility}, headers=bearer(token)
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_favouriting_and_reblogging_another_business_post_sets_the_marks(app_client):
    # Given the bakery's app and a public post of the florist here
    _owner, token = await business_with_token(app_client)
    _other, florist = await business_with_token(app_client, "florist")
    post = await _post(app_client, florist, "Tulips are in")
    path = f"/api/v1/statuses/{post['id']}"

    # When the bakery favourites it (twice: the second changes nothing)
    liked = await app_client.post(f"{path}/favourite", headers=bearer(token))
    again = await app_client.post(f"{path}/favourite", headers=bearer(token))
    # Then it is favourited, listed among the favourites, and one like is stored
    assert liked.status_code == 200, liked.text
    assert liked.json()["favourited"] is True and again.json()["favourited"] is True
    assert entity_gaps(return_types.Status, liked.json()) == []
    listed = await app_client.get("/api/v1/favourites", headers=bearer(token))
    assert [s["id"] for s in listed.json()] == [post["id"]]
    assert listed.json()[0]["favourited"] is True
    me = (await app_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))).json()
    store = app_client.services.store
    assert await given_store.count(store, int(me["id"]), "like") == 1
    # And the status read by the bakery says so too
    read = await app_client.get(path, headers=bearer(token))
    assert read.json()["favourited"] is True

    # When it reblogs it
    reblog = await app_client.post(f"{path}/reblog", headers=bearer(token))
    # Then the answer is the reblog wrapper: the bakery's account, the post inside
    assert reblog.status_code == 200, reblog.text
    body = reblog.json()
    assert body["account"]["id"] == me["id"] and body["reblog"]["id"] == post["id"]
    assert body["reblogged"] is True and body["reblog"]["reblogged"] is True
    assert entity_gaps(return_types.Status, body) == []

    # When it takes both back
    unliked = await app_client.post(f"{path}/unfavourite", headers=bearer(token))
    unboosted = await app_client.post(f"{path}/unreblog", headers=bearer(token))
    # Then neither mark is left
    assert unliked.json()["favourited"] is False and unliked.json()["reblogged"] is True
    assert unboosted.json()["reblogged"] is False
    assert (await app_client.get("/api/v1/favourites", headers=bearer(token))).json() == []


async def test_bad_ids_private_reblogs_and_missing_scopes_are_refused(app_client):
    _owner, token = await business_with_token(app_client)
    _other, florist = await business_with_token(app_client, "florist", scopes="read write")
    hidden = await _post(app_client, florist, "Staff only", visibility="private")
    own_private = await _post(app_client, token, "Followers only", visibility="private")
    unknown = await app_client.post("/api/v1/statuses/12345/favourite", headers=bearer(token))
    assert unknown.status_code == 404 and unknown.json() == {"error": "Record not found"}
    not_a_number = await app_client.post("/api/v1/statuses/x/reblog", headers=bearer(token))
    assert not_a_number.status_code in (400, 404)
    others = await app_client.post(
        f"/api/v1/statuses/{hidden['id']}/favourite", headers=bearer(token)
    )
    assert others.status_code == 404
    private = await app_client.post(
        f"/api/v1/statuses/{own_private['id']}/reblog", headers=bearer(token)
    )
    assert private.status_code == 422 and "error" in private.json()
    _o, reader = await business_with_token(app_client, "deli", scopes="read")
    refused = await app_client.post(
        f"/api/v1/statuses/{own_private['id']}/favourite", headers=bearer(reader)
    )
    assert refused.status_code == 403 and "error" in refused.json()
    assert (await app_client.get("/api/v1/timelines/home")).status_code == 401


async def test_the_home_timeline_shows_posts_and_boosts_with_paging(app_client):
    # Given the bakery's timeline: two posts by Alice, then Bob's boost of a third
    _owner, token = await business_with_token(app_client)
    me = (await app_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))).json()
    store = app_client.services.store
    alice = await add_remote_actor(store, ALICE)
    bob = await add_remote_actor(store, BOB)
    notes = []
    for n in range(3):
        uri = f"{ALICE}/statuses/{n}"
        note_id = await social.insert_note(
            store, uri=uri, actor_id=alice.id, content=content(f"n{n}"), now=now_ms()
        )
        await timeline_store.add(
            store,
            business_id=int(me["id"]),
            note_id=note_id,
            entry_uri=uri if n < 2 else f"{BOB}/statuses/9/activity",
            boosted_by=None if n < 2 else bob.id,
            now=now_ms() + n,
        )
        notes.append(note_id)

    # When the app reads the first page of two
    first = await app_client.get("/api/v1/timelines/home?limit=2", headers=bearer(token))
    # Then it is Bob's reblog wrapper, then Alice's second post
    assert first.status_code == 200, first.text
    boost, post = first.json()
    assert boost["account"]["id"] == str(bob.id) and boost["reblog"]["id"] == str(notes[2])
    assert boost["reblog"]["account"]["id"] == str(alice.id)
    assert post["id"] == str(notes[1]) and post["reblog"] is None
    assert post["media_attachments"][0]["url"] == "https://x.example/a.png"
    for status in (boost, boost["reblog"], post):
        assert entity_gaps(return_types.Status, status) == []
    # And the Link header leads to the older one
    older_url = first.headers["link"].split(">")[0].lstrip("<")
    older = await app_client.get(older_url, headers=bearer(token))
    assert [s["id"] for s in older.json()] == [str(notes[0])]
    newer_url = older.headers["link"].split("<")[2].split(">")[0]
    newer = await app_client.get(newer_url, headers=bearer(token))
    assert [s["id"] for s in newer.json()] == [boost["id"], post["id"]]

    # When the bakery has liked Alice's boosted note (a row as outbound.reactions writes)
    await given_store.insert(
        store,
        row_id=now_ms(),
        business_id=int(me["id"]),
        object_uri=f"{ALICE}/statuses/2",
        kind="like",
        activity_uri="https://town.example/a/1",
        author_uri=ALICE,
        now=now_ms(),
    )
    # Then the timeline marks it, on the wrapper and inside
    again = (await app_client.get("/api/v1/timelines/home", headers=bearer(token))).json()
    assert again[0]["favourited"] is True and again[0]["reblog"]["favourited"] is True
    assert again[1]["favourited"] is False
    assert (
        await app_client.get("/api/v1/timelines/list/1", headers=bearer(token))
    ).status_code == 404


async def test_a_followers_only_note_on_the_home_timeline_is_readable_by_its_id(app_client):
    _owner, token = await business_with_token(app_client)
    _other, deli = await business_with_token(app_client, "deli")
    me = (await app_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))).json()
    store = app_client.services.store
    alice = await add_remote_actor(store, ALICE)
    note_id = await social.insert_note(
        store,
        uri=f"{ALICE}/statuses/p",
        actor_id=alice.id,
        content=replace(content("members only"), visibility="followers"),
        now=now_ms(),
    )
    await timeline_store.add(
        store,
        business_id=int(me["id"]),
        note_id=note_id,
        entry_uri=f"{ALICE}/statuses/p",
        boosted_by=None,
        now=now_ms(),
    )
    read = await app_client.get(f"/api/v1/statuses/{note_id}", headers=bearer(token))
    assert read.status_code == 200 and read.json()["visibility"] == "private"
    other = await app_client.get(f"/api/v1/statuses/{note_id}", headers=bearer(deli))
    assert other.status_code == 404
    refused = await app_client.post(f"/api/v1/statuses/{note_id}/reblog", headers=bearer(deli))
    assert refused.status_code == 404
    private = await app_client.post(f"/api/v1/statuses/{note_id}/reblog", headers=bearer(token))
    assert private.status_code == 422 and "error" in private.json()


async def test_home_paging_takes_back_the_status_ids_the_app_sees(app_client):
    # Given two notes of Alice stored in one order and put on the bakery's timeline in the
    # other (a note's id and its timeline entry's id then disagree), and Bob's boost
    _owner, token = await business_with_token(app_client)
    me = (await app_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))).json()
    store = app_client.services.store
    alice = await add_remote_actor(store, ALICE)
    bob = await add_remote_actor(store, BOB)
    old_note, new_note, boosted = [
        await social.insert_note(
            store,
            uri=f"{ALICE}/statuses/{n}",
            actor_id=alice.id,
            content=content(f"n{n}"),
            now=now_ms(),
        )
        for n in range(3)
    ]
    start = now_ms() + 1000
    for offset, (note_id, n) in enumerate(((new_note, 1), (old_note, 0))):
        await timeline_store.add(
            store,
            business_id=int(me["id"]),
            note_id=note_id,
            entry_uri=f"{ALICE}/statuses/{n}",
            boosted_by=None,
            now=start + offset,
        )
    await timeline_store.add(
        store,
        business_id=int(me["id"]),
        note_id=boosted,
        entry_uri=f"{BOB}/statuses/9/activity",
        boosted_by=bob.id,
        now=start + 2,
    )
    home = "/api/v1/timelines/home"

    # When the app reads one status at a time, each time by the last status id it saw
    seen = []
    max_id = None
    for _ in range(4):
        query = f"?limit=1&max_id={max_id}" if max_id else "?limit=1"
        page = (await app_client.get(home + query, headers=bearer(token))).json()
        if not page:
            break
        seen.append(page[0]["id"])
        max_id = page[0]["id"]
    # Then it gets the boost, then the older entry (the older note), then the other
    boost_id = seen[0]
    assert seen[1:] == [str(old_note), str(new_note)]
    assert boost_id not in (str(old_note), str(new_note), str(boosted))

    # And the Link header names status ids too, and leads to the same pages
    first = await app_client.get(home + "?limit=2", headers=bearer(token))
    assert f"max_id={old_note}" in first.headers["link"]
    assert f"min_id={boost_id}" in first.headers["link"]
    # And min_id/since_id given a status id answer what comes after it
    newer = await app_client.get(f"{home}?min_id={new_note}", headers=bearer(token))
    assert [s["id"] for s in newer.json()] == [boost_id, str(old_note)]
    since = await app_client.get(f"{home}?since_id={old_note}", headers=bearer(token))
    assert [s["id"] for s in since.json()] == [boost_id]
    # And a muted booster's boost leaves it, by the same ids
    await app_client.post(f"/api/v1/accounts/{bob.id}/mute", headers=bearer(token))
    muted = await app_client.get(home, headers=bearer(token))
    assert [s["id"] for s in muted.json()] == [str(old_note), str(new_note)]
