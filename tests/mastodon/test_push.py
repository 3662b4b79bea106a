"""Web Push against a real push receiver on loopback, both backends: Mastodon.py subscribes
with keys it made, a customer elsewhere (the test peer) mentions the business, and the
receiver gets an encrypted push that Mastodon.py's own ``push_subscription_decrypt_push``
opens, signed with a VAPID JWT the receiver checks against the instance's key. A
``standard`` subscription gets RFC 8291 ``aes128gcm`` (opened with ``http_ece``); alerts
and policy leave out what they should; a push service that answers 410 ends the
subscription; bad input gets Mastodon's answers."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import http_ece
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from mastodon import Mastodon
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.live import bind_loopback, serve_app, wait_until
from tests.mastodon.flow import (
    authorize_url,
    bearer,
    business_with_token,
    code_from,
    consent,
    exchange,
    register,
    signed_in,
    token_for,
)
from tests.webapp.kit import owner_of

pytestmark = pytest.mark.anyio


def _b64(text: str) -> bytes:
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Receiver:
    """A push service on loopback: records each POST; ``/push/gone`` answers 410."""

    base: str = ""
    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    async def push(self, request: Request) -> Response:
        name = request.path_params["name"]
        self.received.append((name, dict(request.headers), await request.body()))
        return Response(status_code=410 if name == "gone" else 201)

    def url(self, name: str) -> str:
        return f"{self.base}/push/{name}"

    def of(self, name: str) -> list[tuple[dict[str, str], bytes]]:
        return [(headers, body) for n, headers, body in self.received if n == name]


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = Starlette(routes=[Route("/push/{name}", found.push, methods=["POST"])])
    sock = bind_loopback()
    found.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with serve_app(app, sock):
        yield found


def check_vapid(jwt: str, public_key: str, audience: str) -> dict[str, Any]:
    """The JWT's claims, once its ES256 signature is checked with the VAPID public key."""
    head, claims, signature = jwt.split(".")
    raw = _b64(signature)
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _b64(public_key))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    found: dict[str, Any] = json.loads(_b64(claims))
    assert json.loads(_b64(head)) == {"typ": "JWT", "alg": "ES256"}
    assert found["aud"] == audience
    assert found["exp"] > time.time()
    return found


async def mention(live: Any, peer: Any, token: str, text: str) -> dict[str, Any]:
    """The bakery posts; the peer's alice replies mentioning it (a mention notification)."""
    posted = await live.client.post(
        "/api/v1/statuses", data={"status": text}, headers=bearer(token)
    )
    reply = peer.reply(posted.json()["uri"], live.urls.actor("bakery"), "<p>One for me!</p>")
    assert (await peer.post(live.urls.inbox("bakery"), reply)).status_code == 202
    return reply


async def test_mastodon_py_decrypts_a_pushed_mention(live: Any, peer: Any) -> None:
    # Given Mastodon.py signed in as the bakery with push, subscribed with its own keys
    # to mentions at a push receiver on loopback
    bakery = await signed_in(live, scopes="read write push")
    api, token = bakery.api, bakery.token
    private, public = api.push_subscription_generate_keys()
    async with receiver() as push:
        subscription = await anyio.to_thread.run_sync(
            lambda: api.push_subscription_set(push.url("phone"), public, mention_events=True)
        )
        # When a customer elsewhere mentions the bakery
        await mention(live, peer, token, "Rye today")
        [(headers, body)] = await wait_until(lambda: push.of("phone"))
    app = await anyio.to_thread.run_sync(api.app_verify_credentials)
    v2 = (await live.client.get("/api/v2/instance")).json()
    # Then Mastodon.py opens the push: Mastodon's payload for the mention
    opened = api.push_subscription_decrypt_push(
        body, private, headers["encryption"], headers["crypto-key"]
    )
    notifications = (await live.client.get("/api/v1/notifications", headers=bearer(token))).json()
    assert opened.notification_type == "mention"
    assert opened.notification_id == notifications[0]["id"]
    assert opened.access_token == token
    assert opened.title == f"{notifications[0]['account']['display_name']} mentioned you"
    assert opened.body == "One for me!"
    # And it was signed with the instance's VAPID key, which the app and instance show
    assert headers["content-encoding"] == "aesgcm"
    scheme, jwt = headers["authorization"].split(" ", 1)
    assert scheme == "WebPush"
    server_key = headers["crypto-key"].split("p256ecdsa=")[1]
    check_vapid(jwt, server_key, push.base)
    assert server_key == subscription.server_key == app.vapid_key
    assert v2["configuration"]["vapid"]["public_key"] == server_key
    assert subscription.alerts.mention is True and subscription.alerts.follow is False


async def test_a_standard_subscription_gets_aes128gcm_and_alerts_and_policy_hold(
    live: Any, peer: Any
) -> None:
    # Given a standard (RFC 8291) subscription, as JSON, to mentions but not follows
    _owner, token = await business_with_token(live.client, scopes="read write push")
    api = Mastodon(api_base_url=live.base_url, version_check_mode="none")
    private, public = api.push_subscription_generate_keys()
    async with receiver() as push:
        body = {
            "subscription": {
                "endpoint": push.url("std"),
                "keys": {
                    "p256dh": base64.urlsafe_b64encode(public["pubkey"]).decode().rstrip("="),
                    "auth": base64.urlsafe_b64encode(public["auth"]).decode().rstrip("="),
                },
                "standard": True,
            },
            "data": {"alerts": {"mention": True, "follow": False}, "policy": "all"},
        }
        made = await live.client.post("/api/v1/push/subscription", json=body, headers=bearer(token))
        # When alice follows (not in the alerts), then mentions the bakery
        follow = peer.follow(live.urls.actor("bakery"))
        assert (await peer.post(live.urls.inbox("bakery"), follow)).status_code == 202
        await mention(live, peer, token, "Spelt today")
        [(headers, sent)] = await wait_until(lambda: push.of("std"))
        # And then the policy narrows to accounts the bakery follows, and alice mentions again
        narrowed = await live.client.put(
            "/api/v1/push/subscription",
            json={"data": {"policy": "followed"}},
            headers=bearer(token),
        )
        await mention(live, peer, token, "Oats today")
        worked = await wait_until(lambda: _pushes_finished(live, 3))
        pushed = push.of("std")
    # Then only the first mention was pushed, in aes128gcm, opened with the app's key
    key = ec.derive_private_key(private["privkey"], ec.SECP256R1())
    opened = json.loads(
        http_ece.decrypt(sent, private_key=key, auth_secret=private["auth"], version="aes128gcm")
    )
    assert made.status_code == 200, made.text
    assert made.json()["standard"] is True
    assert (narrowed.json()["policy"], narrowed.json()["alerts"]["mention"]) == ("followed", True)
    assert opened["notification_type"] == "mention"
    assert headers["content-encoding"] == "aes128gcm"
    token_part, key_part = headers["authorization"].removeprefix("vapid ").split(", ")
    check_vapid(token_part.removeprefix("t="), key_part.removeprefix("k="), push.base)
    assert len(pushed) == 1
    assert sorted(str(r["last_error"]) for r in worked) == ["left out by policy", "not in alerts"]


async def _pushes_finished(live: Any, count: int) -> list[Any]:
    """The finished push rows left out (by alerts or policy), once ``count`` are finished."""
    rows = await live.store.fetch_all(
        "SELECT state, last_error FROM push_deliveries WHERE state = 'done'"
    )
    if len(rows) < count:
        return []
    return [r for r in rows if r["last_error"] is not None]


async def test_a_gone_endpoint_ends_the_subscription(live: Any, peer: Any) -> None:
    # Given a subscription whose push service says it is gone (410)
    _owner, token = await business_with_token(live.client, scopes="read write push")
    api = Mastodon(api_base_url=live.base_url, version_check_mode="none")
    _private, public = api.push_subscription_generate_keys()
    async with receiver() as push:
        form = {
            "subscription[endpoint]": push.url("gone"),
            "subscription[keys][p256dh]": base64.b64encode(public["pubkey"]).decode(),
            "subscription[keys][auth]": base64.b64encode(public["auth"]).decode(),
            "data[alerts][mention]": "true",
        }
        made = await live.client.post("/api/v1/push/subscription", data=form, headers=bearer(token))
        # When a mention is pushed there
        await mention(live, peer, token, "Rolls today")
        await wait_until(lambda: push.of("gone"))

        async def ended() -> bool:
            answer = await live.client.get("/api/v1/push/subscription", headers=bearer(token))
            return answer.status_code == 404

        # Then the subscription is gone
        assert made.status_code == 200, made.text
        assert await wait_until(ended)


async def test_a_revoked_tokens_subscription_ends_and_gets_nothing(live: Any, peer: Any) -> None:
    # Given an app's token with a subscription, which the app then revokes
    owner = await owner_of(live.client, "bakery", login="bakery-owner")
    app = await register(live.client, scopes="read write push")
    code = code_from(await consent(owner, authorize_url(app, scope="read write push")))
    token = (await exchange(live.client, app, code)).json()["access_token"]
    api = Mastodon(api_base_url=live.base_url, version_check_mode="none")
    _private, public = api.push_subscription_generate_keys()
    async with receiver() as push:
        form = {
            "subscription[endpoint]": push.url("revoked"),
            "subscription[keys][p256dh]": base64.b64encode(public["pubkey"]).decode(),
            "subscription[keys][auth]": base64.b64encode(public["auth"]).decode(),
            "data[alerts][follow]": "true",
        }
        made = await live.client.post("/api/v1/push/subscription", data=form, headers=bearer(token))
        secret = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
        await live.client.post("/oauth/revoke", data={**secret, "token": token})
        # When the bakery is then followed
        follow = peer.follow(live.urls.actor("bakery"))
        assert (await peer.post(live.urls.inbox("bakery"), follow)).status_code == 202

        async def given_up() -> list[Any]:
            return await live.store.fetch_all(
                "SELECT last_error FROM push_deliveries WHERE state = 'failed'"
            )

        [row] = await wait_until(given_up)
        left = await live.store.fetch_all("SELECT id FROM push_subscriptions")
    # Then nothing was pushed, and the subscription is gone with the token
    assert made.status_code == 200, made.text
    assert push.received == []
    assert row["last_error"] == "token no longer good"
    assert left == []


async def test_push_subscriptions_refuse_bad_input(live: Any) -> None:
    # Given a token with push and one without
    owner, token = await business_with_token(live.client, scopes="read write push")
    reader = await token_for(live.client, owner, scopes="read")
    api = Mastodon(api_base_url=live.base_url, version_check_mode="none")
    _private, public = api.push_subscription_generate_keys()
    keys = {
        "subscription[keys][p256dh]": base64.b64encode(public["pubkey"]).decode(),
        "subscription[keys][auth]": base64.b64encode(public["auth"]).decode(),
    }
    good = {"subscription[endpoint]": "https://push.example/abc", **keys}

    async def post(form: dict[str, str], who: str = token) -> Any:
        return await live.client.post("/api/v1/push/subscription", data=form, headers=bearer(who))

    # When subscriptions are asked for wrongly, and the token's one is read and deleted
    none_yet = await live.client.get("/api/v1/push/subscription", headers=bearer(token))
    unscoped = await post(good, reader)
    no_token = await live.client.post("/api/v1/push/subscription", data=good)
    bad_url = await post({**good, "subscription[endpoint]": "ftp://push.example/x"})
    bad_key = await post({**good, "subscription[keys][p256dh]": "AAAA"})
    bad_policy = await post({**good, "policy": "friends"})
    made = await post(good)
    shown = await live.client.get("/api/v1/push/subscription", headers=bearer(token))
    gone = await live.client.delete("/api/v1/push/subscription", headers=bearer(token))
    after = await live.client.get("/api/v1/push/subscription", headers=bearer(token))
    # Then Mastodon's status codes and error shape
    assert (none_yet.status_code, none_yet.json()) == (404, {"error": "Record not found"})
    assert unscoped.status_code == 403
    assert no_token.status_code == 401
    assert bad_url.status_code == bad_key.status_code == bad_policy.status_code == 422
    assert "error" in bad_key.json()
    assert made.status_code == 200
    assert shown.json() == made.json()
    assert made.json()["policy"] == "all"
    assert made.json()["alerts"]["mention"] is False
    assert (gone.status_code, after.status_code) == (200, 404)
