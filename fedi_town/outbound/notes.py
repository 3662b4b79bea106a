"""The activities about a stored post, built with the read side's Note builder.

``store.document_inputs.note_inputs`` turns a stored post into the ``NoteInput`` that the
Note URL also serves, and ``protocol.activities`` wraps it, so the Note we deliver and the
Note we serve are the same document.
"""

from __future__ import annotations

from typing import Any

from fedi_town.protocol import activities, documents
from fedi_town.services import Services
from fedi_town.store.businesses import Business
from fedi_town.store.document_inputs import note_inputs
from fedi_town.store.posts import Post


async def note_input(services: Services, business: Business, post: Post) -> documents.NoteInput:
    (found,) = await note_inputs(services.store, services.urls, business, [post])  # as just written
    return found


async def create_for(services: Services, business: Business, post: Post) -> dict[str, Any]:
    """``Create{Note}``, id ``<note>/activity`` (what the read side serves there too)."""
    activity_id = services.urls.post_activity(business.username, post.id)
    return activities.create_note(activity_id, await note_input(services, business, post))


async def update_for(services: Services, business: Business, post: Post) -> dict[str, Any]:
    """``Update{Note}`` after an edit, id ``<note>#updates/<edited ms>`` (one per edit)."""
    assert post.edited_at is not None
    activity_id = f"{post.uri}#updates/{post.edited_at}"
    return activities.update_note(activity_id, await note_input(services, business, post))
