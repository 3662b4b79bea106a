"""The admin's API over the whole instance: domain blocks and reports (in-process app, both
backends)."""

from __future__ import annotations

import pytest

from fedi_town.store import inbox as inbox_store
from fedi_town.store.db import now_ms
from tests.api.helpers import followers_from, setup_bakery
from tests.conftest import admin_headers
from tests.inbound.helpers import count

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"


async def test_admin_domain_blocks_cut_follows_everywhere_and_drop_queued_activities(app_client):
    services, business, owner = await setup_bakery(app_client)
    _, cafe, _ = await setup_bakery(app_client, "cafe", display_name="Cafe")
    await followers_from(services, business, ALICE)
    await followers_from(services, cafe, "https://eu.mastodon.example/users/b")
    await inbox_store.add(
        services.store,
        activity_uri=f"{ALICE}#likes/9",
        business_id=None,
        actor_uri=ALICE,
        type="Like",
        body="{}",
        now=now_ms(),
    )
    url = "/api/v1/admin/domain_blocks"
    assert (
        await app_client.post(url, json={"domain": "x.example"}, headers=owner)
    ).status_code == 403
    response = await app_client.post(
        url, json={"domain": "mastodon.example"}, headers=admin_headers()
    )
    assert response.status_code == 201
    assert await count(services.store, "follows") == 0
    assert await count(services.store, "inbox_items", "state = 'cancelled'") == 1
    listed = (await app_client.get(url, headers=admin_headers())).json()["items"]
    assert [b["domain"] for b in listed] == ["mastodon.example"]
    deleted = await app_client.delete(f"{url}/{response.json()['id']}", headers=admin_headers())
    assert deleted.status_code == 204
