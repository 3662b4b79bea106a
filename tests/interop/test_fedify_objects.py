"""Fedify reads what fedi-town serves: a post fetched by its id parses with its content,
author, addressing, hashtag, mention and image, and nothing makes Fedify warn.

The handle lookup of the business itself is in test_fedify_smoke.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.harness import FedifyClient
from tests.interop.owner import PUBLIC, Owner

pytestmark = pytest.mark.anyio


def why(result: dict[str, Any]) -> str:
    return "\n".join(f"{r['level']} {r['category']}: {r['message']}" for r in result["log"])


async def test_fedify_fetches_a_post_and_parses_content_author_addressing_and_tags(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a public post with a hashtag, a mention of the Fedify actor and an image
    owner = await Owner.create(live, "corner_bakery")
    media = await owner.upload_png("Sourdough on a board")
    post = await owner.post(
        f"Fresh #sourdough today, {fedify.handle}!", media_ids=[media["id"]], language="en"
    )

    # When Fedify looks the post up by its id (lookupObject)
    result = await fedify.fetch(post["uri"])

    # Then it is a Note by the business, public, with the tags and image Fedify understood
    assert result["found"], why(result)
    note = result["object"]
    assert note["type"] == "Note"
    assert note["id"] == post["uri"]
    assert note["attributedTo"] == [owner.actor]
    assert "sourdough" in note["content"]
    assert note["to"] == [PUBLIC]
    assert owner.followers_uri in note["cc"]
    assert fedify.actor_id in note["cc"]
    tags = {(t["type"], t["name"]) for t in note["tags"]}
    # Fedify keeps a Hashtag only when the @context defines it (Mastodon's terms).
    assert ("Hashtag", "#sourdough") in tags
    assert ("Mention", fedify.handle) in tags
    [mention] = [t for t in note["tags"] if t["type"] == "Mention"]
    assert mention["href"] == fedify.actor_id
    [image] = note["attachments"]
    assert image["type"] == "Document" or image["type"] == "Image"
    assert image["mediaType"] == "image/png"
    assert image["name"] == "Sourdough on a board"
    assert image["url"] == media["url"]
    assert [c["language"] for c in note["contents"] if c["language"]] == ["en"]
    assert result["warnings"] == []


async def test_fedify_sees_a_followers_only_post_as_gone_to_an_unsigned_fetch(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a followers-only post
    owner = await Owner.create(live, "corner_bakery")
    post = await owner.post("Staff discount on Friday", visibility="followers")

    # When Fedify, who does not follow the business, fetches it unsigned
    result = await fedify.fetch(post["uri"])

    # Then it gets nothing it could show
    assert not result["found"]
