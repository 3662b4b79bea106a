"""A status's edit history for a Mastodon app: ``GET /api/v1/statuses/{id}/history``
(``read:statuses``, or no token for a public post), StatusEdit entities oldest first.

A post of a business here answers the versions ``commands.edit_post`` kept
(``store.post_versions``: the original, then each edit), or itself alone when it was never
edited; a remote note answers its current version alone (earlier versions of notes from
elsewhere are not kept), as Mastodon answers for a status it holds no edits of.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import iso, media_attachment
from fedi_town.mastodon.reactions import status_for
from fedi_town.services import Services
from fedi_town.store import post_versions, reads
from fedi_town.store import posts as post_store


def _edit(status: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A StatusEdit: what a version showed, by the status's account."""
    edit = {
        "content": status["content"],
        "spoiler_text": status["spoiler_text"],
        "sensitive": status["sensitive"],
        "created_at": status["edited_at"] or status["created_at"],
        "account": status["account"],
        "poll": None,
        "media_attachments": status["media_attachments"],
        "emojis": [],
    }
    return {**edit, **changes}


@endpoint("read:statuses", token=False)
async def history(request: Request, grant: Grant | None) -> Response:
    services: Services = request.app.state.services
    status = await status_for(services, grant, str(request.path_params["id"]))
    post = await post_store.by_uri(services.store, status["uri"])
    versions = await post_versions.of_post(services.store, post.id) if post is not None else []
    if not versions:
        return json([_edit(status)])
    media_ids = [m for version in versions for m in version.media_ids]
    media = await reads.media_by_ids(services.store, media_ids)
    return json(
        [
            _edit(
                status,
                content=version.content_html,
                spoiler_text=version.spoiler_text,
                sensitive=version.sensitive or bool(version.spoiler_text),
                created_at=iso(version.created_at),
                media_attachments=[
                    media_attachment(services, media[m]) for m in version.media_ids if m in media
                ],
            )
            for version in versions
        ]
    )


routes = [Route("/api/v1/statuses/{id}/history", history, methods=["GET"])]
