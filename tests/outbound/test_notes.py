"""outbound.notes: the Create a new post sends is the Note the read side serves, shaped as
Mastodon sends it, its images attached in the order given."""

from __future__ import annotations

import pytest

from tests.outbound.conftest import (
    activities,
    image_bytes,
    upload,
    write_post,
)

pytestmark = pytest.mark.anyio

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
BASE = "https://town.example"
FOLLOWERS = f"{BASE}/users/bakery/followers"


async def test_the_create_is_shaped_as_mastodon_sends_it(app_client, bakery):
    response = await write_post(
        app_client,
        bakery,
        content="Open late #Friday",
        language="en",
        spoiler_text="hours",
        sensitive=True,
    )
    post = response.json()
    [create] = await activities(app_client.services.store)
    note_id = post["uri"]
    html = post["content_html"]
    assert html == (
        '<p>Open late <a href="https://town.example/@bakery/tagged/friday" '
        'class="mention hashtag" rel="tag">#<span>Friday</span></a></p>'
    )
    assert create["id"] == f"{note_id}/activity"
    assert create["type"] == "Create"
    assert create["actor"] == f"{BASE}/users/bakery"
    assert (create["to"], create["cc"]) == ([PUBLIC], [FOLLOWERS])
    assert "https://www.w3.org/ns/activitystreams" in create["@context"]
    note = create["object"]
    assert "@context" not in note
    assert {k: note[k] for k in note if k not in ("replies", "likes", "shares")} == {
        "id": note_id,
        "type": "Note",
        "summary": "hours",
        "inReplyTo": None,
        "published": create["published"],
        "url": post["url"],
        "attributedTo": f"{BASE}/users/bakery",
        "to": [PUBLIC],
        "cc": [FOLLOWERS],
        "sensitive": True,
        "content": html,
        "contentMap": {"en": html},
        "attachment": [],
        "tag": [
            {
                "type": "Hashtag",
                "href": "https://town.example/@bakery/tagged/friday",
                "name": "#Friday",
            }
        ],
        "interactionPolicy": {"canQuote": {"automaticApproval": [PUBLIC]}},
    }
    assert note["replies"]["id"] == f"{note_id}/replies"
    assert note["likes"] == {"id": f"{note_id}/likes", "type": "Collection", "totalItems": 0}


async def test_attached_images_become_note_attachments_in_the_given_order(app_client, bakery):
    first = (await upload(app_client, bakery, image_bytes(), description="Rye")).json()
    second = (await upload(app_client, bakery, image_bytes("PNG", (30, 60)))).json()
    response = await write_post(
        app_client, bakery, content="Today", media_ids=[second["id"], first["id"]]
    )
    assert response.status_code == 201, response.text
    assert [m["id"] for m in response.json()["media"]] == [second["id"], first["id"]]
    [create] = await activities(app_client.services.store)
    assert create["object"]["attachment"] == [
        {
            "type": "Image",
            "mediaType": "image/png",
            "url": second["url"],
            "name": None,
            "blurhash": second["blurhash"],
            "width": 30,
            "height": 60,
        },
        {
            "type": "Image",
            "mediaType": "image/jpeg",
            "url": first["url"],
            "name": "Rye",
            "blurhash": first["blurhash"],
            "width": 64,
            "height": 48,
        },
    ]
    again = await write_post(app_client, bakery, content="Again", media_ids=[first["id"]])
    assert again.status_code == 422
    assert again.json()["errors"][0]["pointer"] == "/media_ids/0"
