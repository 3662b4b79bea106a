"""Relationships, one person at a time (in-process app, fixed clock, both backends): a
scripted week of activity checked against the neighbour view, the questions waiting and the
week at a glance; blocks and an account's Delete; refusals."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator

from fedi_town.schemas import SCHEMA_DIR
from fedi_town.store import given, moderation
from fedi_town.store.db import new_id
from tests.api.helpers import followers_from, setup_bakery
from tests.inbound import payloads as p
from tests.inbound.handlers.timeline_kit import create, followed, note
from tests.inbound.helpers import add_post, add_remote_actor, handle

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"
BOB = "https://social.example/users/bob"
CAROL = "https://spam.example/users/carol"
BASE = "/api/v1/businesses/bakery"
HOUR = timedelta(hours=1)


async def _post(services, business, text, **columns):
    now = services.now_ms()
    return await add_post(services, business, text, published_at=now, created_at=now, **columns)


async def _reply(services, business, author, to_uri, text):
    """``author`` replies to ``to_uri`` (a post of the bakery's), the bakery in cc."""
    biz = services.urls.actor(business.username)
    body = note(author, f"<p>{text}</p>", inReplyTo=to_uri, cc=[f"{author}/followers", biz])
    assert "1 business" in await handle(services, create(body))
    return body["id"]


async def _gave(services, business, object_uri, kind, author):
    await given.insert(
        services.store,
        row_id=new_id(),
        business_id=business.id,
        object_uri=object_uri,
        kind=kind,
        activity_uri=f"https://town.example/given/{new_id()}",
        author_uri=author,
        now=services.now_ms(),
    )


async def _scripted_week(client, clock):
    """Monday to Wednesday of the bakery (UTC): three posts; Alice follows, likes, boosts,
    replies twice (answered once); Bob replies once; Carol follows and replies; the bakery
    follows Alice, likes and boosts her posts."""
    services, business, owner = await setup_bakery(client)
    for actor in (ALICE, BOB, CAROL):
        await add_remote_actor(services.store, actor)
    _, bread = await _post(services, business, "Rye today")
    _, buns = await _post(services, business, "Buns at four")
    _, soup = await _post(services, business, "Soup Friday")
    clock.advance(HOUR)
    await followers_from(services, business, ALICE)
    await handle(services, p.mastodon_like(ALICE, bread))
    await handle(services, p.mastodon_announce(ALICE, services.urls.actor("bakery"), buns))
    clock.advance(HOUR)
    asked = await _reply(services, business, ALICE, bread, "Is it sourdough?")
    clock.advance(HOUR)
    await _post(services, business, "Yes, it is!", in_reply_to_uri=asked)
    clock.advance(HOUR)
    bob_asked = await _reply(services, business, BOB, soup, "Vegan soup?")
    clock.advance(HOUR)
    alice_again = await _reply(services, business, ALICE, buns, "Until when?")
    clock.advance(HOUR)
    await followed(services, business, ALICE)
    await _gave(services, business, f"{ALICE}/statuses/1", given.LIKE, ALICE)
    await _gave(services, business, f"{ALICE}/statuses/2", given.ANNOUNCE, ALICE)
    await _gave(services, business, bread, given.LIKE, services.urls.actor("bakery"))
    clock.advance(HOUR)
    await followers_from(services, business, CAROL)
    await _reply(services, business, CAROL, bread, "Buy followers!")
    await moderation.add_block(
        services.store,
        business_id=business.id,
        actor_uri=CAROL,
        domain=None,
        now=services.now_ms(),
    )
    return services, business, owner, {"bob": bob_asked, "alice": alice_again}


def _matches(name: str, data) -> None:
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())
    Draft202012Validator(schema).validate(data)


async def _ids(client, owner) -> list[str]:
    page = (await client.get(f"{BASE}/neighbours", headers=owner)).json()
    return [i["account"]["id"] for i in page["items"]]


async def test_the_neighbour_view_counts_a_scripted_week(clocked_client, clock):
    # Given a week of activity with Alice, Bob and (blocked) Carol
    _, _, owner, _ = await _scripted_week(clocked_client, clock)

    # When the owner lists the neighbours
    page = (await clocked_client.get(f"{BASE}/neighbours", headers=owner)).json()
    # Then Alice (most recent: the bakery followed her) comes before Bob; Carol is hidden
    assert [i["account"]["id"] for i in page["items"]] == [ALICE, BOB]
    assert page["total"] == 2 and page["next_offset"] is None
    _matches("neighbour-page", page)
    by_name = (
        await clocked_client.get(f"{BASE}/neighbours?sort=name&limit=1", headers=owner)
    ).json()
    assert [i["account"]["id"] for i in by_name["items"]] == [ALICE]
    assert by_name["next_offset"] == 1

    # And Alice's page counts both ways
    alice = page["items"][0]["id"]
    view = (await clocked_client.get(f"{BASE}/neighbours/{alice}", headers=owner)).json()
    _matches("neighbour", view)
    assert view["follows_business_since"] is not None
    assert view["business_follows"] == "accepted"
    counts = {
        side: {k: v["count"] for k, v in view[side].items()} for side in ("received", "given")
    }
    assert counts == {
        "received": {"replies": 2, "likes": 1, "boosts": 1},
        "given": {"replies": 1, "likes": 1, "boosts": 1},
    }
    assert [i["content"] for i in view["received"]["replies"]["recent"]] == [
        "<p>Until when?</p>",
        "<p>Is it sourdough?</p>",
    ]
    assert view["given"]["replies"]["recent"][0]["content"] == "<p>Yes, it is!</p>"


async def test_the_week_at_a_glance_counts_what_was_given_back(clocked_client, clock):
    # Given the scripted week
    _, _, owner, _ = await _scripted_week(clocked_client, clock)
    # When the owner reads the last seven days
    week = (await clocked_client.get(f"{BASE}/week", headers=owner)).json()
    _matches("relations-week", week)
    # Then the answer, the like and the boost of Alice's posts count; the like of its own
    # post, Carol's follow and reply do not
    assert week == {
        "start": "2026-11-17",
        "end": "2026-11-23",
        "timezone": "UTC",
        "posts_published": 3,
        "replies_given": 1,
        "likes_given": 1,
        "boosts_given": 1,
        "new_followers": 1,
        "replies_received": 3,
        "still_waiting": 2,
        "gave_back": 3,
        "sentence": "You gave back 3 times for 3 posts: a good neighbour.",
    }
    # And an earlier week is quiet
    before = (await clocked_client.get(f"{BASE}/week?start=2026-11-01", headers=owner)).json()
    assert before["posts_published"] == 0 and before["end"] == "2026-11-07"
    assert before["sentence"].startswith("A quiet week")


async def test_questions_wait_until_answered_or_dealt_with(clocked_client, clock):
    # Given Bob's and Alice's unanswered replies (Carol's is blocked)
    _, _, owner, asked = await _scripted_week(clocked_client, clock)
    url = f"{BASE}/questions"
    first = (await clocked_client.get(url, headers=owner)).json()
    # Then they wait oldest first
    _matches("question-page", first)
    assert [i["uri"] for i in first["items"]] == [asked["bob"], asked["alice"]]
    # When the owner marks Bob's as dealt with
    bob_id = first["items"][0]["id"]
    done = await clocked_client.post(f"{url}/{bob_id}/dealt-with", headers=owner)
    assert done.status_code == 204
    assert [i["uri"] for i in (await clocked_client.get(url, headers=owner)).json()["items"]] == [
        asked["alice"]
    ]
    # And undoes it
    undone = await clocked_client.delete(f"{url}/{bob_id}/dealt-with", headers=owner)
    assert undone.status_code == 204
    assert len((await clocked_client.get(url, headers=owner)).json()["items"]) == 2


async def test_a_deleted_account_leaves_every_list(clocked_client, clock):
    # Given the scripted week
    services, _, owner, asked = await _scripted_week(clocked_client, clock)
    alice = (await clocked_client.get(f"{BASE}/neighbours", headers=owner)).json()["items"][0]
    alice_q = (await clocked_client.get(f"{BASE}/questions", headers=owner)).json()["items"][1]
    await clocked_client.post(f"{BASE}/questions/{alice_q['id']}/dealt-with", headers=owner)
    # When Alice deletes her account
    await handle(services, p.mastodon_delete_actor(ALICE))
    # Then she is in no list, her page is gone, and so is her mark
    assert await _ids(clocked_client, owner) == [BOB]
    gone = await clocked_client.get(f"{BASE}/neighbours/{alice['id']}", headers=owner)
    assert gone.status_code == 404
    questions = (await clocked_client.get(f"{BASE}/questions", headers=owner)).json()["items"]
    assert [q["uri"] for q in questions] == [asked["bob"]]
    assert await services.store.fetch_val("SELECT COUNT(*) FROM dealt_with") == 0
    week = (await clocked_client.get(f"{BASE}/week", headers=owner)).json()
    assert (week["gave_back"], week["replies_received"], week["new_followers"]) == (0, 1, 0)


async def test_a_domain_block_hides_a_neighbour_and_their_questions(clocked_client, clock):
    # Given the scripted week, and the admin blocks Bob's domain
    services, _, owner, _ = await _scripted_week(clocked_client, clock)
    await moderation.add_block(
        services.store, business_id=None, actor_uri=None, domain="social.example", now=1
    )
    # Then Bob is in no list
    assert await _ids(clocked_client, owner) == [ALICE]
    questions = (await clocked_client.get(f"{BASE}/questions", headers=owner)).json()["items"]
    assert all(q["account"]["id"] != BOB for q in questions)


async def test_bad_input_and_other_owners_are_refused(clocked_client, clock):
    # Given the bakery, a neighbour, and another business's owner
    services, business, owner = await setup_bakery(clocked_client)
    _, _, cafe = await setup_bakery(clocked_client, "cafe")
    await followers_from(services, business, ALICE)
    alice = (await clocked_client.get(f"{BASE}/neighbours", headers=owner)).json()["items"][0]
    # Then unknown ids are 404, bad dates and parameters 400, another owner 404
    checks = [
        ("GET", f"{BASE}/neighbours/123456", owner, 404),
        ("GET", f"{BASE}/neighbours/abc", owner, 404),
        ("GET", f"{BASE}/neighbours/{alice['id']}", cafe, 404),
        ("GET", f"{BASE}/neighbours", cafe, 404),
        ("GET", f"{BASE}/neighbours?sort=size", owner, 400),
        ("GET", f"{BASE}/neighbours?offset=-1", owner, 400),
        ("GET", f"{BASE}/week?start=2026-13-01", owner, 400),
        ("GET", f"{BASE}/week?start=yesterday", owner, 400),
        ("GET", f"{BASE}/week?start=9999-12-31", owner, 400),
        ("GET", f"{BASE}/week?start=0001-01-01", owner, 400),
        ("GET", f"{BASE}/week?start=20261101", owner, 400),
        ("GET", f"{BASE}/week", cafe, 404),
        ("GET", f"{BASE}/questions", cafe, 404),
        ("POST", f"{BASE}/questions/123456/dealt-with", owner, 404),
        ("POST", f"{BASE}/questions/abc/dealt-with", owner, 404),
        ("DELETE", f"{BASE}/questions/123456/dealt-with", cafe, 404),
    ]
    for method, url, headers, status in checks:
        response = await clocked_client.request(method, url, headers=headers)
        assert response.status_code == status, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
