"""inbound.handlers.reports: a Flag becomes a report the business named and the admin see."""

from __future__ import annotations

import json

import pytest

from tests.inbound import payloads as p
from tests.inbound.handlers.helpers import (
    twice_changes_nothing,
)
from tests.inbound.helpers import (
    add_remote_actor,
    handle,
    notification_types,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "instance, make",
    [
        ("https://mastodon.example/actor", p.mastodon_flag),
        ("https://gts.example/users/gts.example", p.gotosocial_flag),
    ],
    ids=["mastodon", "gotosocial"],
)
async def test_a_flag_becomes_a_report_the_business_and_admin_see(
    services, bakery, biz, post, instance, make
):
    _, post_uri = post
    await add_remote_actor(services.store, instance)
    flag = make(instance, biz, post_uri)
    assert await handle(services, flag) == "report stored for 1 business(es)"
    report = await services.store.fetch_one("SELECT * FROM reports")
    assert report["business_id"] == bakery.id
    assert json.loads(report["object_uris"]) == [biz, post_uri]
    assert await notification_types(services.store) == ["report"]
    await twice_changes_nothing(services, flag)
