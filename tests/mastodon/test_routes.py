"""A real Mastodon client (Mastodon.py) signs in as a business and posts, end to end, on a
live instance with a real peer server following the business (both backends)."""

from __future__ import annotations

import io
import re
from html import unescape
from pathlib import Path
from typing import Any

import anyio
import pytest
from mastodon import Mastodon, MastodonUnauthorizedError, return_types
from PIL import Image

from fedi_town.mastodon import routes
from tests.mastodon.flow import entity_gaps
from tests.webapp.kit import PASSWORD, AppUser, owner_of

pytestmark = pytest.mark.anyio

SCOPES = ["read", "write"]


def png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, "PNG")
    return out.getvalue()


async def sign_in_through_the_browser(live: Any, url: str) -> str:
    """A signed-out browser opens the app's sign-in URL, signs in with the owner app's own
    form, allows the app on the consent page and reads the code shown (out of band)."""
    browser = AppUser(live.client)
    path = url[len(live.base_url) :]
    first = await browser.get(path)
    assert first.status_code == 303
    assert first.headers["location"].startswith("/login?next=")
    login_page = await browser.get(first.headers["location"])
    next_url = unescape(re.search(r'name="next" value="([^"]*)"', login_page.text).group(1))
    assert next_url.startswith("/oauth/authorize?")
    signed = await browser.submit(
        "/login", {"login": "anna", "password": PASSWORD, "next": next_url}
    )
    assert signed.status_code == 303
    consent = await browser.get(signed.headers["location"])
    assert consent.status_code == 200
    assert "Mastodon.py test app" in consent.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', consent.text))
    fields = {k: unescape(v) for k, v in fields.items() if k != "csrf"}
    shown = await browser.submit(
        "/oauth/authorize", {**fields, "business": "bakery", "decision": "allow"}
    )
    assert shown.status_code == 200, shown.text
    code = re.search(r'value="([^"]+)" aria-label="Authorization code"', shown.text)
    assert code is not None
    await browser.close()
    return code.group(1)


async def test_a_mastodon_app_signs_in_posts_a_photo_reads_notifications_and_deletes(live, peer):
    # Given a business whose owner has a password, and alice elsewhere following it
    await live.create_business("bakery", display_name="The Bakery")
    owner = await owner_of(live.client, "bakery", create=False)
    await owner.close()
    await peer.post(live.urls.inbox("bakery"), peer.follow(live.urls.actor("bakery")))
    await peer.wait_for(lambda r: r.type == "Accept")
    base = live.base_url

    # When a real Mastodon client registers itself and asks the owner to sign in
    client_id, secret = await anyio.to_thread.run_sync(
        lambda: Mastodon.create_app("Mastodon.py test app", scopes=SCOPES, api_base_url=base)
    )
    api = await anyio.to_thread.run_sync(
        lambda: Mastodon(client_id=client_id, client_secret=secret, api_base_url=base)
    )
    url = await anyio.to_thread.run_sync(
        lambda: api.auth_request_url(scopes=SCOPES, allow_http=True)
    )
    code = await sign_in_through_the_browser(live, url)
    await anyio.to_thread.run_sync(lambda: api.log_in(code=code, scopes=SCOPES, allow_http=True))

    # Then it is the business
    me = await anyio.to_thread.run_sync(api.account_verify_credentials)
    assert me.acct == "bakery" and me.display_name == "The Bakery"
    assert me.followers_count == 1

    # When it uploads a photo with alt text and posts with it
    media = await anyio.to_thread.run_sync(
        lambda: api.media_post(io.BytesIO(png()), mime_type="image/png", description="A loaf")
    )
    assert media.type == "image" and media.meta.original.width == 64
    status = await anyio.to_thread.run_sync(
        lambda: api.status_post("Fresh sourdough today #bread", media_ids=[media])
    )
    # Then the status is the business's, with the photo
    assert status.account.id == me.id
    assert status.media_attachments[0].description == "A loaf"
    assert status.application.name == "Mastodon.py test app"
    assert status.visibility == "public"
    # And alice's server receives the Note with the photo, and the outbox lists it
    [create] = await peer.wait_for(lambda r: r.type == "Create")
    assert create.json["object"]["id"] == status.uri
    assert create.json["object"]["attachment"][0]["name"] == "A loaf"
    outbox = await live.client.get(
        "/users/bakery/outbox?page=1", headers={"Accept": "application/activity+json"}
    )
    assert status.uri in outbox.text

    # When alice likes it
    await peer.post(live.urls.inbox("bakery"), peer.like(status.uri))

    async def two_notifications() -> list[Any]:
        found = await anyio.to_thread.run_sync(api.notifications)
        return found if len(found) >= 2 else []

    from tests.live import wait_until

    found = await wait_until(two_notifications)
    # Then the app reads a follow and a favourite of its status
    assert [n.type for n in found] == ["favourite", "follow"]
    assert found[0].status.id == status.id
    assert found[1].account.acct == f"alice@{peer.host}"

    # When it deletes the status
    await anyio.to_thread.run_sync(lambda: api.status_delete(status.id))
    # Then alice's server is told
    await peer.wait_for(lambda r: r.type == "Delete")

    # When the app signs out (revokes its token), the token no longer works
    await anyio.to_thread.run_sync(lambda: api.revoke_access_token(allow_http=True))
    api.access_token = None
    with pytest.raises(MastodonUnauthorizedError):
        stale = Mastodon(access_token="ftmasto_x", api_base_url=base, version_check_mode="none")
        await anyio.to_thread.run_sync(stale.account_verify_credentials)


async def test_answers_have_every_field_mastodon_py_declares(live, peer):
    # Given a signed-in app that posted with a photo, and a follower's notification
    from tests.mastodon.flow import bearer, token_for

    await live.create_business("bakery", display_name="The Bakery")
    owner = await owner_of(live.client, "bakery", create=False)
    token = await token_for(live.client, owner)
    await peer.post(live.urls.inbox("bakery"), peer.follow(live.urls.actor("bakery")))
    await peer.wait_for(lambda r: r.type == "Accept")
    headers = bearer(token)
    upload = await live.client.post(
        "/api/v2/media", files={"file": ("a.png", png(), "image/png")}, headers=headers
    )
    posted = await live.client.post(
        "/api/v1/statuses",
        json={"status": "Hello", "media_ids": [upload.json()["id"]]},
        headers=headers,
    )
    notes = await live.client.get("/api/v1/notifications", headers=headers)
    me = await live.client.get("/api/v1/accounts/verify_credentials", headers=headers)
    v1 = await live.client.get("/api/v1/instance")
    v2 = await live.client.get("/api/v2/instance")
    # Then each answer has every field Mastodon.py's entities always have
    assert entity_gaps(return_types.MediaAttachment, upload.json()) == []
    assert entity_gaps(return_types.Status, posted.json()) == []
    assert entity_gaps(return_types.Account, posted.json()["account"]) == []
    assert entity_gaps(return_types.Account, me.json()) == []
    assert entity_gaps(return_types.Notification, notes.json()[0]) == []
    assert entity_gaps(return_types.InstanceV2, v2.json()) == []
    assert entity_gaps(return_types.Instance, v1.json()) == []
    await owner.close()


def test_every_mastodon_route_is_listed_in_the_docs():
    doc = (Path(__file__).parents[2] / "docs" / "mastodon-api.md").read_text()
    for route in routes.routes:
        methods = getattr(route, "methods", None) or {"WS"}  # a WebSocketRoute has none
        for method in sorted(methods - {"HEAD"}):
            assert f"`{method} {route.path}`" in doc, (method, route.path)
