"""Every activity a business sends, as Mastodon shapes them (interop §4 "Us → Mastodon").

PURE: typed values in, fresh dicts out; no database, no network. The ids are minted by the
caller (``Urls``); the Note inside Create/Update is ``documents.note``, so the Note we deliver
is the Note we serve.

    Create{Note}     id = <note>/activity, addressed like the Note
    Update{Note}     id = <note>#updates/<ms>, ``published`` = the edit time
    Update{actor}    id = <actor>#updates/<unique id>, object = the whole actor, to Public
    Delete{Tombstone} id = <note>#delete, to Public (as Mastodon sends every Delete)
    Delete{actor}    id = <actor>#delete, actor = object = the actor id, to Public
    Accept/Reject    object = the Follow as received (Mastodon matches its id)
    Add/Remove       a pinned note in or out of the ``featured`` collection (``target``)
    Follow, Like     object = the actor or the Note, no addressing (as Mastodon)
    Announce         to Public, cc the author and our followers (a public boost)
    Undo             object = the activity undone, embedded without its ``@context``
    Create{vote}     a Note named after the option, replying to a Question, to its author
    Tombstone        what a deleted actor or Note URL answers with (410)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from fedi_town.protocol.documents import Document, NoteInput, addressing, note
from fedi_town.protocol.vocabulary import AS_CONTEXT, AS_PUBLIC, NOTE_CONTEXT, iso8601


def _embedded(document: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "@context"}


# --- notes ----------------------------------------------------------------------------------


def _wrap(kind: str, activity_id: str, n: NoteInput, at_ms: int, context: bool) -> Document:
    to, cc = addressing(n.visibility, n.followers, n.mentions)
    doc: Document = {"@context": NOTE_CONTEXT} if context else {}
    doc |= {
        "id": activity_id,
        "type": kind,
        "actor": n.attributed_to,
        "published": iso8601(at_ms),
        "to": to,
        "cc": cc,
        "object": note(n, context=False),
    }
    return doc


def create_note(activity_id: str, n: NoteInput, *, context: bool = True) -> Document:
    """``Create{Note}`` addressed like the Note (the outbox items, and what we deliver)."""
    return _wrap("Create", activity_id, n, n.published_ms, context)


def update_note(activity_id: str, n: NoteInput, *, context: bool = True) -> Document:
    """``Update{Note}`` for an edit: Mastodon applies it only if ``updated`` moved forward."""
    return _wrap("Update", activity_id, n, n.edited_ms or n.published_ms, context)


def delete_note(note_id: str, actor: str) -> Document:
    """Delete{Tombstone} of a note (Mastodon's DeleteSerializer)."""
    return {
        "@context": AS_CONTEXT,
        "id": f"{note_id}#delete",
        "type": "Delete",
        "actor": actor,
        "to": [AS_PUBLIC],
        "object": {"id": note_id, "type": "Tombstone", "atomUri": note_id},
    }


def tombstone(object_id: str, former_type: str, deleted_ms: int) -> Document:
    """What a deleted actor or Note URL answers with (410)."""
    return {
        "@context": AS_CONTEXT,
        "id": object_id,
        "type": "Tombstone",
        "formerType": former_type,
        "deleted": iso8601(deleted_ms),
    }


# --- actors ---------------------------------------------------------------------------------


def update_actor(actor_document: Mapping[str, Any], update_id: int) -> Document:
    """Update{actor} after a profile change, with the whole actor embedded. ``update_id`` is
    unique (``store.db.new_id``): one actor may change twice within a millisecond (an edit,
    then an offer it shows)."""
    actor = str(actor_document["id"])
    return {
        "@context": actor_document.get("@context", AS_CONTEXT),
        "id": f"{actor}#updates/{update_id}",
        "type": "Update",
        "actor": actor,
        "to": [AS_PUBLIC],
        "object": _embedded(actor_document),
    }


def move(*, id: str, actor: str, target: str) -> Document:
    """Move{actor: X, object: X, target: Y}: X's followers should follow Y instead. Shaped as
    Mastodon sends it (``ActivityPub::MoveSerializer``); Y must name X in ``alsoKnownAs``."""
    return {
        "@context": AS_CONTEXT,
        "id": id,
        "type": "Move",
        "actor": actor,
        "object": actor,
        "target": target,
    }


def delete_actor(actor: str) -> Document:
    """Delete{actor: X, object: X}: the account is gone."""
    return {
        "@context": AS_CONTEXT,
        "id": f"{actor}#delete",
        "type": "Delete",
        "actor": actor,
        "to": [AS_PUBLIC],
        "object": actor,
    }


# --- follows --------------------------------------------------------------------------------


def _answer(kind: str, *, id: str, actor: str, follow: Any) -> Document:
    return {"@context": AS_CONTEXT, "id": id, "type": kind, "actor": actor, "object": follow}


def accept(*, id: str, actor: str, follow: Any) -> Document:
    """Accept{Follow}: ``follow`` as received (or rebuilt), so the follower can match it."""
    return _answer("Accept", id=id, actor=actor, follow=follow)


def reject(*, id: str, actor: str, follow: Any) -> Document:
    """Reject{Follow}: a refused request, or a follower removed."""
    return _answer("Reject", id=id, actor=actor, follow=follow)


def follow(*, id: str, actor: str, object: str) -> Document:
    """Follow of the actor ``object`` (Mastodon's FollowSerializer: no addressing)."""
    return {"@context": AS_CONTEXT, "id": id, "type": "Follow", "actor": actor, "object": object}


def vote(*, id: str, actor: str, question: str, author: str, option: str) -> Document:
    """A vote in a poll elsewhere, as Mastodon's ``VoteSerializer``: ``Create{Note}`` whose
    ``name`` is the option, ``inReplyTo`` the ``Question``, to its author only; the Note's
    id is ``id``, the activity's ``id + "/activity"``."""
    return {
        "@context": AS_CONTEXT,
        "id": f"{id}/activity",
        "type": "Create",
        "actor": actor,
        "to": author,
        "object": {
            "id": id,
            "type": "Note",
            "name": option,
            "attributedTo": actor,
            "to": author,
            "inReplyTo": question,
        },
    }


# --- featured -------------------------------------------------------------------------------


def _featured(kind: str, *, id: str, actor: str, note_id: str, featured: str) -> Document:
    return {
        "@context": AS_CONTEXT,
        "id": id,
        "type": kind,
        "actor": actor,
        "object": note_id,
        "target": featured,
    }


def add(*, id: str, actor: str, note_id: str, featured: str) -> Document:
    """Add (pin) a note to the actor's ``featured`` collection."""
    return _featured("Add", id=id, actor=actor, note_id=note_id, featured=featured)


def remove(*, id: str, actor: str, note_id: str, featured: str) -> Document:
    """Remove (unpin) a note from the actor's ``featured`` collection."""
    return _featured("Remove", id=id, actor=actor, note_id=note_id, featured=featured)


# --- reactions ------------------------------------------------------------------------------


def like(*, id: str, actor: str, object: str) -> Document:
    """Like of the Note ``object`` (Mastodon's LikeSerializer: no addressing)."""
    return {"@context": AS_CONTEXT, "id": id, "type": "Like", "actor": actor, "object": object}


def announce(
    *,
    id: str,
    actor: str,
    followers: str,
    object: str,
    object_author: str,
    published_ms: int,
    visibility: Literal["public", "unlisted"] = "public",
) -> Document:
    """Announce (boost) of the Note ``object``, addressed as Mastodon addresses a reblog.

    public: to Public, cc the Note's author and our followers; unlisted: to our followers,
    cc the author and Public.
    """
    if visibility == "public":
        to, cc = [AS_PUBLIC], [object_author, followers]
    else:
        to, cc = [followers], [object_author, AS_PUBLIC]
    return {
        "@context": AS_CONTEXT,
        "id": id,
        "type": "Announce",
        "actor": actor,
        "published": iso8601(published_ms),
        "to": to,
        "cc": cc,
        "object": object,
    }


def undo(*, id: str, actor: str, activity: Mapping[str, Any]) -> Document:
    """Undo of one of our activities (a Follow, Like or Announce), embedded whole and
    addressed as it was, so whoever received it can find what to undo."""
    doc: Document = {"@context": AS_CONTEXT, "id": id, "type": "Undo", "actor": actor}
    for key in ("to", "cc"):
        if key in activity:
            doc[key] = activity[key]
    doc["object"] = _embedded(activity)
    return doc
