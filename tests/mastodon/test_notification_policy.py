"""Filtered notifications through Mastodon.py on a live instance (both backends): the
policy reads as "everything accepted" in both shapes, a change is checked and answered with
it, the requests list is empty and valid, and scopes and bad input get Mastodon's answers."""

from __future__ import annotations

from typing import Any

import pytest
from mastodon import MastodonAPIError, MastodonNotFoundError, return_types

from tests.mastodon.flow import (
    SignedIn,
    bearer,
    calls_as,
    entity_gaps,
    token_for,
)

pytestmark = pytest.mark.anyio


async def test_the_policy_accepts_everything_and_there_are_no_requests(
    live: Any, bakery_app: SignedIn
) -> None:
    # Given the bakery signed in with Mastodon.py
    owner, token = bakery_app.owner, bakery_app.token
    call = bakery_app.call
    # When the app reads the policy and the requests
    policy = await call("notifications_policy")
    requests = await call("notification_requests", limit=10)
    merged = await call("notifications_merged")
    # Then everything is accepted, nothing pending, no requests, all merged
    assert entity_gaps(return_types.NotificationPolicy, policy) == []
    assert policy.for_not_following == "accept" and policy.for_private_mentions == "accept"
    assert policy.for_limited_accounts == "accept"
    assert policy.summary.pending_requests_count == 0
    assert entity_gaps(return_types.NotificationPolicySummary, policy.summary) == []
    assert requests == [] and merged is True

    # When it asks to filter strangers' notifications
    changed = await call("update_notifications_policy", for_not_following="filter")
    # Then the answer is the policy in force: still everything accepted
    assert changed.for_not_following == "accept"
    # And the v1 shape answers too
    headers = bearer(token)
    v1 = await live.client.get("/api/v1/notifications/policy", headers=headers)
    assert v1.status_code == 200
    assert v1.json()["filter_not_following"] is False
    assert v1.json()["summary"] == {"pending_requests_count": 0, "pending_notifications_count": 0}
    patched = await live.client.patch(
        "/api/v1/notifications/policy", data={"filter_new_accounts": "true"}, headers=headers
    )
    assert patched.status_code == 200 and patched.json()["filter_new_accounts"] is False

    # When a request is read, accepted or dismissed by id, or several at once
    # Then one by id is not found, several at once is fine (there are none)
    for method in ("notification_request", "accept_notification_request"):
        with pytest.raises(MastodonNotFoundError):
            await call(method, "12345")
    await call("accept_multiple_notification_requests", ["12345"])
    await call("dismiss_multiple_notification_requests", ["12345"])

    # And bad input: a value Mastodon does not take is 422, a bad max_id 400 or 422,
    # and a token without the scopes is 403, each with Mastodon's error JSON
    bad = await live.client.patch(
        "/api/v2/notifications/policy", data={"for_new_accounts": "maybe"}, headers=headers
    )
    assert bad.status_code == 422 and "error" in bad.json()
    paging = await live.client.get(
        "/api/v1/notifications/requests", params={"max_id": "soon"}, headers=headers
    )
    assert paging.status_code in (400, 422) and "error" in paging.json()
    narrow_token = await token_for(live.client, owner, scopes="read:statuses")
    narrow = await calls_as(live, narrow_token)
    for method, args in (
        ("notifications_policy", ()),
        ("notification_requests", ()),
        ("update_notifications_policy", ()),
        ("dismiss_multiple_notification_requests", (["1"],)),
    ):
        with pytest.raises(MastodonAPIError) as refused:
            await narrow(method, *args)
        assert refused.value.args[1] == 403
    unsigned = await live.client.get("/api/v2/notifications/policy")
    assert unsigned.status_code == 401 and "error" in unsigned.json()
