"""The activities a business sends besides Create/Update{Note}, as Mastodon shapes them
(interop §4 "Us → Mastodon"). Create and Update of Notes come from ``protocol.documents``
(see ``outbound.notes``), so the Note we deliver is the Note we serve.

PURE: plain dicts in, plain dicts out; no database, no network.

    Delete{Tombstone} id = <note>#delete, to Public (as Mastodon sends every Delete)
    Update{actor}    id = <actor>#updates/<ms>, object = the whole actor, to Public
    Delete{actor}    id = <actor>#delete, actor = object = the actor id, to Public
    Add/Remove       a pinned note in or out of the ``featured`` collection
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fedi_town.protocol.vocabulary import AS_CONTEXT, AS_PUBLIC


def _embedded(document: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "@context"}


def delete(note_id: str, actor: str) -> dict[str, Any]:
    """Delete{Tombstone} of a note (Mastodon's DeleteSerializer)."""
    return {
        "@context": AS_CONTEXT,
        "id": f"{note_id}#delete",
        "type": "Delete",
        "actor": actor,
        "to": [AS_PUBLIC],
        "object": {"id": note_id, "type": "Tombstone", "atomUri": note_id},
    }


def update_actor(actor_document: Mapping[str, Any], at_ms: int) -> dict[str, Any]:
    """Update{actor} after a profile change, with the whole actor embedded."""
    actor = str(actor_document["id"])
    return {
        "@context": actor_document.get("@context", AS_CONTEXT),
        "id": f"{actor}#updates/{at_ms}",
        "type": "Update",
        "actor": actor,
        "to": [AS_PUBLIC],
        "object": _embedded(actor_document),
    }


def delete_actor(actor: str) -> dict[str, Any]:
    """Delete{actor: X, object: X}: the account is gone."""
    return {
        "@context": AS_CONTEXT,
        "id": f"{actor}#delete",
        "type": "Delete",
        "actor": actor,
        "to": [AS_PUBLIC],
        "object": actor,
    }


def featured_change(
    kind: str, *, id: str, actor: str, note_id: str, featured: str
) -> dict[str, Any]:
    """Add (pin) or Remove (unpin) a note in the actor's ``featured`` collection."""
    return {
        "@context": AS_CONTEXT,
        "id": id,
        "type": kind,
        "actor": actor,
        "object": note_id,
        "target": featured,
    }
