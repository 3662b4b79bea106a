"""store.relations on both backends: who counts as a neighbour and when they last met, the
questions waiting and their dealt-with marks, forgetting a deleted business's marks."""

from __future__ import annotations

import pytest

from fedi_town.store import relations, social
from tests.inbound.handlers.timeline_kit import create, note
from tests.inbound.helpers import add_business, add_post, add_remote_actor, handle

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"
BOB = "https://mastodon.example/users/bob"


async def _reply(services, business, author, to_uri):
    biz = services.urls.actor(business.username)
    body = note(author, "<p>Open on Sunday?</p>", inReplyTo=to_uri, cc=[biz])
    await handle(services, create(body))
    found = await social.note_by_uri(services.store, body["id"])
    assert found is not None
    return found


async def test_a_reply_makes_a_neighbour_and_waits_until_answered(services):
    # Given Alice and Bob reply to the bakery's post; Bob replies later
    business = await add_business(services)
    await add_remote_actor(services.store, ALICE)
    await add_remote_actor(services.store, BOB)
    _, post = await add_post(services, business)
    alice_note = await _reply(services, business, ALICE, post)
    bob_note = await _reply(services, business, BOB, post)
    # Then both are neighbours and both questions wait, oldest first
    found = await relations.neighbours(services.store, business.id)
    assert {a.uri for a, _ in found} == {ALICE, BOB}
    waiting = await relations.waiting(services.store, business.id)
    assert [q.note_id for q in waiting] == [alice_note.id, bob_note.id]
    # When the bakery answers Alice and marks Bob's as dealt with
    await add_post(services, business, "Yes!", in_reply_to_uri=alice_note.uri)
    await relations.mark_dealt_with(services.store, business.id, bob_note.id, now=1)
    await relations.mark_dealt_with(services.store, business.id, bob_note.id, now=2)
    # Then nothing waits; undoing the mark brings Bob's back
    assert await relations.waiting(services.store, business.id) == []
    await relations.unmark_dealt_with(services.store, business.id, bob_note.id)
    assert [q.note_id for q in await relations.waiting(services.store, business.id)] == [
        bob_note.id
    ]


async def test_a_deleted_business_forgets_its_marks(services):
    # Given a mark
    business = await add_business(services)
    await add_remote_actor(services.store, ALICE)
    _, post = await add_post(services, business)
    alice_note = await _reply(services, business, ALICE, post)
    await relations.mark_dealt_with(services.store, business.id, alice_note.id, now=1)
    # When the business is deleted
    await relations.delete_all_of(services.store, business.id)
    # Then it is gone
    assert await services.store.fetch_val("SELECT COUNT(*) FROM dealt_with") == 0


async def test_a_deleted_note_takes_its_mark_along(services):
    # Given a reply marked dealt with
    business = await add_business(services)
    await add_remote_actor(services.store, ALICE)
    _, post = await add_post(services, business)
    alice_note = await _reply(services, business, ALICE, post)
    await relations.mark_dealt_with(services.store, business.id, alice_note.id, now=1)
    # When its author deletes it
    await social.delete_note(services.store, alice_note.id, now=services.now_ms())
    # Then the mark and the neighbour are gone
    assert await services.store.fetch_val("SELECT COUNT(*) FROM dealt_with") == 0
    assert await relations.neighbours(services.store, business.id) == []
