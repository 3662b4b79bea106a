"""The worker's side of unusable activities: handled as the inbox chose, or dropped on
purpose with a logged reason, never retried for nothing (issue #11, finding 10)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from fedi_town.inbound.context import Inbound
from fedi_town.inbound.dispatch import handle_inbox_item
from fedi_town.inbound.handlers import HANDLERS
from fedi_town.store import inbox as inbox_store
from fedi_town.store import queue as q
from fedi_town.store.db import now_ms
from tests.conftest import admin_headers
from tests.inbound.helpers import add_remote_actor, count

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"


async def stored_and_handled(services, activity: Any, kind: str) -> dict[str, Any]:
    """Store ``activity`` (any JSON) as the inbox would, typed ``kind``; handle it once as
    the worker would; the row after."""
    row_id = await inbox_store.add(
        services.store,
        activity_uri=f"{ALICE}#activities/{kind}",
        business_id=None,
        actor_uri=ALICE,
        type=kind,
        body=json.dumps(activity),
        now=now_ms(),
    )
    row = await services.store.fetch_one("SELECT * FROM inbox_items WHERE id = :i", {"i": row_id})
    outcome = await handle_inbox_item(services, row)
    await q.apply(services.store, q.INBOX, row_id, outcome, now=now_ms())
    after = await services.store.fetch_one("SELECT * FROM inbox_items WHERE id = :i", {"i": row_id})
    return dict(after)


async def test_a_like_with_several_types_is_handled_as_a_like(services, post) -> None:
    # Given a Like typed ["Like", "Foo"], stored as a Like (the type the inbox chose)
    _, post_uri = post
    await add_remote_actor(services.store, ALICE)
    like = {"id": f"{ALICE}#likes/1", "type": ["Like", "Foo"], "actor": ALICE, "object": post_uri}
    # When the worker handles it
    row = await stored_and_handled(services, like, "Like")
    # Then it is done and the like recorded (it once raised KeyError and was retried 8 times)
    assert row["state"] == "done"
    assert await count(services.store, "interactions", "activity_uri = :u", u=like["id"]) == 1


async def test_a_stored_body_that_is_not_an_object_is_failed_without_retry(services) -> None:
    # Given a stored row whose body is a JSON array
    # When the worker handles it
    row = await stored_and_handled(services, ["Like"], "Like")
    # Then it is failed for good, with its reason
    assert (row["state"], row["last_error"]) == ("failed", "unparseable body")


async def test_a_handler_tripping_on_a_shape_drops_the_item_with_a_logged_reason(
    services, monkeypatch, caplog
) -> None:
    # Given a handler that trips over the activity's shape (as a KeyError once did)
    async def trips(ctx: Inbound) -> str:
        return {"Like": "x"}[ctx.activity["object"]["kind"]]

    monkeypatch.setitem(HANDLERS, "Like", trips)
    # When the worker handles such an activity
    with caplog.at_level(logging.INFO, logger="fedi_town.inbound.dispatch"):
        row = await stored_and_handled(services, {"type": "Like", "object": {}}, "Like")
    # Then it is failed at once (not left to retry), and the log says why
    assert (row["state"], row["last_error"], row["attempts"]) == (
        "failed",
        "malformed: KeyError",
        0,
    )
    assert "cannot use it (KeyError)" in caplog.text


async def test_json_nested_10000_deep_is_a_400_at_the_admin_api(app_client) -> None:
    # Given a business creation body nested 10,000 levels deep
    body = b'{"username":"deep","display_name":' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    # When it is POSTed to the admin API
    response = await app_client.post(
        "/api/v1/businesses",
        content=body,
        headers={**admin_headers(), "Content-Type": "application/json"},
    )
    # Then it is a 400 problem, not a RecursionError's 500
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
