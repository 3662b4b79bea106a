"""store.conversations: a business's direct messages (its own and those that reached it,
nothing else), and the read and hidden marks of its conversations. Both backends."""

from __future__ import annotations

import pytest

from fedi_town.mastodon.conversations import threads
from fedi_town.store import conversations, social
from fedi_town.store.conversations import Message
from fedi_town.store.social import NoteContent
from tests.inbound.helpers import add_business, add_post, add_remote_actor

pytestmark = pytest.mark.anyio


async def test_direct_messages_of_a_business_and_its_marks(services):
    # Given a direct post of the bakery, a public one, and a direct note that reached it
    store = services.store
    bakery = await add_business(services, "bakery")
    own_id, own_uri = await add_post(services, bakery, "Hi", visibility="direct")
    await add_post(services, bakery, "Public")
    alice = await add_remote_actor(store, "https://m.example/users/alice")
    note_id = await social.insert_note(
        store,
        uri="https://m.example/notes/1",
        actor_id=alice.id,
        content=NoteContent(
            in_reply_to_uri=own_uri,
            content_html="<p>Hello</p>",
            summary=None,
            url=None,
            visibility="direct",
            published_at=1,
            document={},
        ),
        now=1,
    )
    await social.add_note_target(store, note_id, bakery.id)
    # When its messages are read
    found = await conversations.messages(store, bakery.id)
    # Then both direct ones are there, and they make one thread
    assert {m.id for m in found} == {own_id, note_id}
    [thread] = threads(found)
    assert thread.id == own_id
    # And marks are kept per conversation
    await conversations.mark_read(store, bakery.id, own_id, note_id)
    await conversations.hide(store, bakery.id, 5, 9)
    marks = await conversations.marks(store, bakery.id)
    assert marks[own_id].read_through == note_id and marks[own_id].hidden_through == 0
    assert marks[5].hidden_through == 9


def test_threads_follow_in_reply_to_and_survive_a_loop():
    a = Message(1, "u:a", None, None)
    b = Message(2, "u:b", "u:a", 7)
    c = Message(3, "u:c", "u:elsewhere", 7)
    x = Message(4, "u:x", "u:y", 7)
    y = Message(5, "u:y", "u:x", 7)
    grouped = threads([y, x, c, b, a])
    assert [(t.id, [m.id for m in t.messages]) for t in grouped] == [
        (4, [5, 4]),
        (3, [3]),
        (1, [2, 1]),
    ]
