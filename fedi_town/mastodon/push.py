"""Web Push for Mastodon apps: a phone hears of a notification with the app closed.

    POST /api/v1/push/subscription    subscription[endpoint], subscription[keys][p256dh],
                                      subscription[keys][auth], subscription[standard],
                                      data[alerts][<type>], data[policy] (or policy); the
                                      token's one subscription, replacing any earlier one
    GET /api/v1/push/subscription     404 when the token has none
    PUT /api/v1/push/subscription     data[alerts][<type>], data[policy]
    DELETE /api/v1/push/subscription

All want the ``push`` scope and a business's token. A new notification queues one row per
subscription of its business (``store.push.queue_for``, in the notification's
transaction); the worker works them (``handle_push``): the subscription of a token
revoked since ends (Mastodon deletes it with the token); a type the subscription's
``alerts`` leave out, or a sender the ``policy`` excludes (``followed``: accounts the
business follows; ``follower``: its followers; ``none``), is dropped; else Mastodon's push
payload (``notification_id``, ``notification_type``, ``title``, ``body``, ``icon``,
``access_token``, ``preferred_locale``) is encrypted for the subscription's keys
(``protocol/webpush.py``: RFC 8291 ``aes128gcm`` for a ``standard`` subscription, the
older ``aesgcm`` otherwise, as Mastodon) and sent through the remote client, with its
address guard, signed with the instance's VAPID key. A push service that answers 404 or
410 ends the subscription; 429 and 5xx are tried again later.

The VAPID key pair is made once per instance, its private key sealed like the other keys
(``store/keys_at_rest.py``), and given to apps as ``vapid_key`` (the app entity) and
``configuration.vapid.public_key`` (``/api/v2/instance``). The token is kept sealed with
the subscription, since Mastodon's payload carries it and only its hash is stored otherwise.
"""

from __future__ import annotations

import json as jsonlib
import logging
import re
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import NotFound, Unprocessable
from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, bearer, endpoint, grant_of_token, json
from fedi_town.mastodon.entities import business_account
from fedi_town.mastodon.notifications import notification, notification_row
from fedi_town.protocol import webpush
from fedi_town.services import Services
from fedi_town.store import businesses, following, keys_at_rest, social
from fedi_town.store import push as push_store
from fedi_town.store import queue as q
from fedi_town.store.db import Row

log = logging.getLogger(__name__)

KV_KEY = keys_at_rest.VAPID_KEY
ALERTS = (
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "quote",
    "quoted_update",
    "admin.sign_up",
    "admin.report",
)
POLICIES = ("all", "followed", "follower", "none")
TITLES = {
    "mention": "{name} mentioned you",
    "follow": "{name} followed you",
    "follow_request": "{name} wants to follow you",
    "favourite": "{name} favourited your post",
    "reblog": "{name} boosted your post",
}
BODY_CHARS = 140
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class VapidKey:
    private_pem: str
    public: str


class _VapidHolder:
    """This process's VAPID key once read (``services.parts``)."""

    def __init__(self) -> None:
        self.key: VapidKey | None = None


async def vapid_key(services: Services) -> VapidKey:
    """The instance's VAPID key pair, made (and sealed) on first use; the first process to
    store one wins, the others read it."""
    holder = services.parts.get(_VapidHolder, _VapidHolder)
    if holder.key is not None:
        return holder.key
    stored = await businesses.get_kv(services.store, KV_KEY)
    if stored is None:
        private_pem, public = webpush.new_vapid_key()
        sealed = services.sealed_keys.seal(private_pem)
        stored = await businesses.put_kv_if_absent(
            services.store, KV_KEY, jsonlib.dumps({"private": sealed, "public": public})
        )
        log.info("created the instance's VAPID key")
    pair = jsonlib.loads(stored)
    holder.key = VapidKey(services.sealed_keys.private_pem(pair["private"]), pair["public"])
    return holder.key


def _param(values: dict[str, Any], *path: str) -> Any:
    """``a[b][c]`` of a form, or ``{"a": {"b": {"c": …}}}`` of a JSON body."""
    flat = path[0] + "".join(f"[{p}]" for p in path[1:])
    if flat in values:
        return values[flat]
    found: Any = values
    for part in path:
        if not isinstance(found, dict) or part not in found:
            return None
        found = found[part]
    return found


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "on", "yes")


def _alerts(values: dict[str, Any], before: dict[str, bool] | None) -> dict[str, bool]:
    alerts = dict(before or dict.fromkeys(ALERTS, False))
    for name in ALERTS:
        value = _param(values, "data", "alerts", name)
        if value is not None:
            alerts[name] = _flag(value)
    return alerts


def _policy(values: dict[str, Any], before: str = "all") -> str:
    value = _param(values, "data", "policy")
    if value is None:
        value = values.get("policy")
    policy = str(value) if value is not None else before
    if policy not in POLICIES:
        raise Unprocessable("Validation failed: Policy is not included in the list")
    return policy


def _subscription_json(services: Services, sub: push_store.Subscription, key: str) -> Any:
    return {
        "id": str(sub.id),
        "endpoint": sub.endpoint,
        "standard": sub.standard,
        "alerts": {name: sub.alerts.get(name, False) for name in ALERTS},
        "policy": sub.policy,
        "server_key": key,
    }


def _check_endpoint(services: Services, url: str) -> str:
    parts = urlsplit(url)
    allowed = ("https", "http") if services.settings.allow_private_addresses else ("https",)
    if parts.scheme not in allowed or not parts.netloc or len(url) > 2048:
        raise Unprocessable("Validation failed: Endpoint is not a valid URL")
    return url


def _check_keys(p256dh: str, auth: str) -> None:
    try:
        point = webpush.b64decode(p256dh)
        secret = webpush.b64decode(auth)
        valid = len(point) == 65 and point[0] == 4 and len(secret) == 16
    except ValueError:
        valid = False
    if not valid:
        raise Unprocessable("Validation failed: Keys are not a P-256 key and a 16-byte secret")


@endpoint("push")
async def create(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    values = await params.read(request, services.settings.max_body_bytes)
    url = str(_param(values, "subscription", "endpoint") or "")
    p256dh = str(_param(values, "subscription", "keys", "p256dh") or "")
    auth = str(_param(values, "subscription", "keys", "auth") or "")
    _check_endpoint(services, url)
    _check_keys(p256dh, auth)
    standard = _param(values, "subscription", "standard")
    key = await vapid_key(services)
    token = bearer(request) or ""
    sub = await push_store.replace(
        services.store,
        token_id=grant.token_id,
        business_id=business.id,
        endpoint=url,
        p256dh=p256dh,
        auth=auth,
        token_sealed=services.sealed_keys.seal(token),
        alerts=_alerts(values, None),
        policy=_policy(values),
        standard=_flag(standard) if standard is not None else False,
        now=services.now_ms(),
    )
    log.info("mastodon API: push subscription %d of business %s", sub.id, business.username)
    return json(_subscription_json(services, sub, key.public))


async def _current(services: Services, grant: Grant) -> push_store.Subscription:
    grant.account()
    sub = await push_store.of_token(services.store, grant.token_id)
    if sub is None:
        raise NotFound("Record not found")
    return sub


@endpoint("push")
async def show(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    services: Services = request.app.state.services
    sub = await _current(services, grant)
    return json(_subscription_json(services, sub, (await vapid_key(services)).public))


@endpoint("push")
async def change(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    services: Services = request.app.state.services
    sub = await _current(services, grant)
    values = await params.read(request, services.settings.max_body_bytes)
    changed = await push_store.change(
        services.store,
        grant.token_id,
        alerts=_alerts(values, sub.alerts),
        policy=_policy(values, sub.policy),
    )
    if changed is None:
        raise NotFound("Record not found")
    return json(_subscription_json(services, changed, (await vapid_key(services)).public))


@endpoint("push")
async def remove(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    grant.account()
    services: Services = request.app.state.services
    await push_store.remove(services.store, token_id=grant.token_id)
    return json({})


def _plain(html: str) -> str:
    text = unescape(_TAG.sub(" ", html.replace("<br>", "\n").replace("</p>", "\n")))
    text = " ".join(text.split())
    return text if len(text) <= BODY_CHARS else text[: BODY_CHARS - 1] + "…"


async def _sender_allowed(services: Services, policy: str, business_id: int, actor: Any) -> bool:
    if policy == "all":
        return True
    if policy == "none" or actor is None:
        return False
    actor_id = int(actor)
    if policy == "followed":
        followed = await following.of_actor(services.store, business_id, actor_id)
        return followed is not None and followed.state == "accepted"
    follower = await social.follow_of(services.store, business_id, actor_id)
    return follower is not None and follower.state == "accepted"


async def handle_push(services: Services, row: Row) -> q.Outcome:
    """Send one queued push (the worker's ``PUSHES`` handler)."""
    sub = await push_store.by_id(services.store, int(row["subscription_id"]))
    if sub is None:
        return q.GiveUp("subscription gone")
    token = services.sealed_keys.private_pem(sub.token_sealed)
    if await grant_of_token(services, token) is None:  # revoked, or its person removed
        await push_store.remove(services.store, id=sub.id)
        return q.GiveUp("token no longer good")
    business = await businesses.by_id(services.store, sub.business_id)
    if business is None or business.deleted_at is not None:
        return q.GiveUp("business gone")
    stored = await notification_row(services, business, int(row["notification_id"]))
    if stored is None:
        return q.GiveUp("notification gone")
    found = await notification(
        services, business, stored, await business_account(services, business)
    )
    if found is None:
        return q.GiveUp("not a Mastodon notification")
    kind = str(found["type"])
    if not sub.alerts.get(kind, False):
        return q.Done({"last_error": "not in alerts"})
    if not await _sender_allowed(services, sub.policy, business.id, stored["a_id"]):
        return q.Done({"last_error": "left out by policy"})
    sender = found["account"]
    name = sender.get("display_name") or sender.get("acct") or ""
    status = found.get("status")
    payload = {
        "access_token": token,
        "preferred_locale": "en",
        "notification_id": found["id"],
        "notification_type": kind,
        "icon": sender.get("avatar_static") or sender.get("avatar"),
        "title": TITLES.get(kind, "{name}").format(name=name),
        "body": _plain(status["content"]) if status else _plain(sender.get("note") or ""),
    }
    key = await vapid_key(services)
    try:
        message = webpush.encrypt(
            jsonlib.dumps(payload).encode(),
            sub.p256dh,
            sub.auth,
            private_pem=key.private_pem,
            endpoint=sub.endpoint,
            subject=services.settings.base_url,
            now=services.now_ms() // 1000,
            standard=sub.standard,
        )
    except ValueError:
        return q.GiveUp("bad subscription keys")
    result = await services.started_remote().post_push(sub.endpoint, message.body, message.headers)
    now = services.now_ms()
    if result.status is not None and 200 <= result.status < 300:
        return q.Done({"last_status": result.status})
    if result.status in (404, 410):
        await push_store.remove(services.store, id=sub.id)
        log.info("push subscription %d ended by its push service (%d)", sub.id, result.status)
        return q.GiveUp("subscription expired", {"last_status": result.status})
    retryable = result.status in (408, 425, 429) or (result.status or 0) >= 500
    if result.status is None and result.error != "forbidden":
        retryable = True
    if not retryable:
        return q.GiveUp(f"push refused ({result.status or result.error})")
    wait_ms = q.PUSHES.retry.delay_ms(int(row["attempts"]))
    if result.retry_after:
        wait_ms = max(wait_ms, int(result.retry_after * 1000))
    return q.Retry(now + wait_ms, f"push service {result.status or result.error}")


routes = [
    Route("/api/v1/push/subscription", create, methods=["POST"]),
    Route("/api/v1/push/subscription", show, methods=["GET"]),
    Route("/api/v1/push/subscription", change, methods=["PUT"]),
    Route("/api/v1/push/subscription", remove, methods=["DELETE"]),
]
