"""protocol.activities: the shape of every activity a business sends (pure, no I/O)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fedi_town.protocol import activities
from fedi_town.protocol.documents import Mention, NoteInput
from fedi_town.protocol.vocabulary import AS_CONTEXT, AS_PUBLIC, NOTE_CONTEXT

ACTOR = "https://town.example/users/bakery"
FOLLOWERS = f"{ACTOR}/followers"
FEATURED = f"{ACTOR}/collections/featured"
NOTE = f"{ACTOR}/statuses/1"
BOB = "https://social.example/users/bob"
BOB_NOTE = "https://social.example/users/bob/statuses/9"
ACT = "https://town.example/users/bakery/activities/7"
T0 = 1_795_132_800_000  # 2026-11-20T00:00:00Z
FOLLOW_IN = {"id": "https://social.example/f/1", "type": "Follow", "actor": BOB, "object": ACTOR}
LIKE = activities.like(id=f"{ACTOR}#likes/1", actor=ACTOR, object=BOB_NOTE)


def _note(**changes: Any) -> NoteInput:
    values: dict[str, Any] = {
        "id": NOTE,
        "attributed_to": ACTOR,
        "followers": FOLLOWERS,
        "url": "https://town.example/@bakery/1",
        "content_html": "<p>hi</p>",
        "published_ms": T0,
        "visibility": "public",
    }
    values.update(changes)
    return NoteInput(**values)


#: (activity, @context, id, type, actor, object, to, cc); None: the key is absent.
SHAPES = [
    pytest.param(
        activities.create_note(f"{NOTE}/activity", _note()),
        NOTE_CONTEXT, f"{NOTE}/activity", "Create", ACTOR, NOTE, [AS_PUBLIC], [FOLLOWERS],
        id="create-note",
    ),
    pytest.param(
        activities.update_note(f"{NOTE}#updates/{T0 + 60_000}", _note(edited_ms=T0 + 60_000)),
        NOTE_CONTEXT, f"{NOTE}#updates/{T0 + 60_000}", "Update", ACTOR, NOTE, [AS_PUBLIC],
        [FOLLOWERS],
        id="update-note",
    ),
    pytest.param(
        activities.delete_note(NOTE, ACTOR),
        AS_CONTEXT, f"{NOTE}#delete", "Delete", ACTOR,
        {"id": NOTE, "type": "Tombstone", "atomUri": NOTE}, [AS_PUBLIC], None,
        id="delete-note",
    ),
    pytest.param(
        activities.update_actor({"@context": "ctx", "id": ACTOR, "type": "Organization"}, T0),
        "ctx", f"{ACTOR}#updates/{T0}", "Update", ACTOR, {"id": ACTOR, "type": "Organization"},
        [AS_PUBLIC], None,
        id="update-actor",
    ),
    pytest.param(
        activities.delete_actor(ACTOR),
        AS_CONTEXT, f"{ACTOR}#delete", "Delete", ACTOR, ACTOR, [AS_PUBLIC], None,
        id="delete-actor",
    ),
    pytest.param(
        activities.accept(id=ACT, actor=ACTOR, follow=FOLLOW_IN),
        AS_CONTEXT, ACT, "Accept", ACTOR, FOLLOW_IN, None, None,
        id="accept",
    ),
    pytest.param(
        activities.reject(id=ACT, actor=ACTOR, follow=FOLLOW_IN),
        AS_CONTEXT, ACT, "Reject", ACTOR, FOLLOW_IN, None, None,
        id="reject",
    ),
    pytest.param(
        activities.add(id=ACT, actor=ACTOR, note_id=NOTE, featured=FEATURED),
        AS_CONTEXT, ACT, "Add", ACTOR, NOTE, None, None,
        id="add",
    ),
    pytest.param(
        activities.remove(id=ACT, actor=ACTOR, note_id=NOTE, featured=FEATURED),
        AS_CONTEXT, ACT, "Remove", ACTOR, NOTE, None, None,
        id="remove",
    ),
    pytest.param(
        activities.follow(id=ACT, actor=ACTOR, object=BOB),
        AS_CONTEXT, ACT, "Follow", ACTOR, BOB, None, None,
        id="follow",
    ),
    pytest.param(
        LIKE,
        AS_CONTEXT, f"{ACTOR}#likes/1", "Like", ACTOR, BOB_NOTE, None, None,
        id="like",
    ),
    pytest.param(
        activities.announce(
            id=ACT, actor=ACTOR, followers=FOLLOWERS, object=BOB_NOTE, object_author=BOB,
            published_ms=T0,
        ),
        AS_CONTEXT, ACT, "Announce", ACTOR, BOB_NOTE, [AS_PUBLIC], [BOB, FOLLOWERS],
        id="announce",
    ),
    pytest.param(
        activities.undo(id=f"{ACTOR}#likes/1/undo", actor=ACTOR, activity=LIKE),
        AS_CONTEXT, f"{ACTOR}#likes/1/undo", "Undo", ACTOR,
        {"id": f"{ACTOR}#likes/1", "type": "Like", "actor": ACTOR, "object": BOB_NOTE},
        None, None,
        id="undo-like",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("activity", "context", "id", "type", "actor", "object", "to", "cc"), SHAPES
)
def test_each_activity_has_the_shape_mastodon_expects(
    activity, context, id, type, actor, object, to, cc
):
    assert activity["@context"] == context
    assert activity["id"] == id
    assert activity["type"] == type
    assert activity["actor"] == actor
    got = activity["object"]
    # A Note embedded in Create/Update is checked by its id (its shape: test_documents).
    assert (got["id"] if isinstance(got, dict) and isinstance(object, str) else got) == object
    assert activity.get("to") == to
    assert activity.get("cc") == cc
    json.dumps(activity)


def test_create_and_update_wrap_the_note_with_its_addressing():
    bob = Mention(BOB, "@bob@social.example")
    note = _note(visibility="unlisted", mentions=(bob,), edited_ms=T0 + 60_000)
    create = activities.create_note(f"{NOTE}/activity", note)
    update = activities.update_note(f"{NOTE}#updates/1", note)
    assert create["to"] == create["object"]["to"] == [FOLLOWERS]
    assert create["cc"] == create["object"]["cc"] == [AS_PUBLIC, BOB]
    assert "@context" not in create["object"]
    assert create["published"] == "2026-11-20T00:00:00Z"
    assert update["published"] == "2026-11-20T00:01:00Z"
    assert update["object"]["updated"] == "2026-11-20T00:01:00Z"


def test_an_embedded_create_has_no_context():
    assert "@context" not in activities.create_note(f"{NOTE}/activity", _note(), context=False)


def test_add_and_remove_target_the_featured_collection():
    for build in (activities.add, activities.remove):
        assert build(id=ACT, actor=ACTOR, note_id=NOTE, featured=FEATURED)["target"] == FEATURED


def test_an_unlisted_announce_goes_to_followers_with_public_in_cc():
    boost = activities.announce(
        id=ACT,
        actor=ACTOR,
        followers=FOLLOWERS,
        object=BOB_NOTE,
        object_author=BOB,
        published_ms=T0,
        visibility="unlisted",
    )
    assert (boost["to"], boost["cc"]) == ([FOLLOWERS], [BOB, AS_PUBLIC])
    assert boost["published"] == "2026-11-20T00:00:00Z"


def test_undo_of_an_announce_keeps_its_addressing_and_drops_its_context():
    boost = activities.announce(
        id=ACT, actor=ACTOR, followers=FOLLOWERS, object=BOB_NOTE, object_author=BOB,
        published_ms=T0,
    )  # fmt: skip
    undo = activities.undo(id=f"{ACT}/undo", actor=ACTOR, activity=boost)
    assert (undo["to"], undo["cc"]) == (boost["to"], boost["cc"])
    assert undo["object"] == {k: v for k, v in boost.items() if k != "@context"}


def test_a_tombstone_names_what_it_was():
    assert activities.tombstone(ACTOR, "Organization", T0) == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": ACTOR,
        "type": "Tombstone",
        "formerType": "Organization",
        "deleted": "2026-11-20T00:00:00Z",
    }
