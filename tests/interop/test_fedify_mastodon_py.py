"""Mastodon.py, the Python library of bots and tools, posts as a business while Fedify
plays a customer elsewhere: the post reaches Fedify, Fedify's reply is read in the
notifications and answered in its thread, the app finds Fedify by search, edits and
deletes. Each new answer also has every field Mastodon.py's entities declare (Mastodon
4.4). Both database backends."""

from __future__ import annotations

import io
from typing import Any

import anyio
import pytest
from mastodon import Mastodon, return_types

from tests.interop.harness import FedifyClient
from tests.interop.owner import fedify_received
from tests.live import wait_until
from tests.mastodon.flow import business_with_token, entity_gaps
from tests.mastodon.test_routes import png

pytestmark = pytest.mark.anyio


def about(uri: str) -> Any:
    def check(activity: dict[str, Any]) -> bool:
        obj = activity.get("object")
        return (obj.get("id") if isinstance(obj, dict) else obj) == uri

    return check


async def test_mastodon_py_answers_a_fedify_reply_in_its_thread(
    live: Any, fedify: FedifyClient
) -> None:
    # Given an app signed in as the bakery, which Fedify follows
    _owner, token = await business_with_token(live.client)
    assert (await fedify.follow(live.urls.actor("bakery")))["ok"]
    await fedify.wait_for("Accept")
    api = await anyio.to_thread.run_sync(
        lambda: Mastodon(access_token=token, api_base_url=live.base_url)
    )

    def call(method: str, *args: Any, **kwargs: Any) -> Any:
        return anyio.to_thread.run_sync(lambda: getattr(api, method)(*args, **kwargs))

    # When it posts a photo, which reaches Fedify, and Fedify replies
    media = await call("media_post", io.BytesIO(png()), mime_type="image/png", description="Rye")
    status = await call("status_post", "Rye is out #bread", media_ids=[media])
    await fedify_received(fedify, "Create", about(status.uri))
    reply = await fedify.reply(status.uri, "<p>Until when?</p>")

    async def mentioned() -> list[Any]:
        found = await call("notifications", types=["mention"])
        return [n for n in found if n.status.uri == reply["note"]]

    [notification] = await wait_until(mentioned)
    unread = await call("notifications_unread_count")
    # And answers the reply, then edits the answer
    answer = await call("status_reply", notification.status, "Until six!")
    edited = await call("status_update", answer.id, "Until seven!")
    thread = await call("status_context", status.id)
    marker = await call("markers_set", ["notifications"], [notification.id])
    found = await call("search_v2", notification.account.acct, resolve=True)
    [relationship] = await call("account_relationships", [notification.account.id])
    followers = await call("account_followers", notification.status.account.id)
    me = await call("account_verify_credentials")
    own_followers = await call("account_followers", me.id)
    local = await call("timeline_local")
    tagged = await call("timeline_hashtag", "bread")
    await call("notifications_dismiss", notification.id)
    after = await call("notifications", types=["mention"])
    # Then Fedify's reply reads as a mention, and the answer threads under it
    assert notification.account.acct == fedify.handle.lstrip("@")
    assert unread.count >= 1
    assert answer.in_reply_to_id == notification.status.id
    assert edited.content == "<p>Until seven!</p>"
    assert [s.id for s in thread.descendants] == [notification.status.id, answer.id]
    assert [a.acct for a in found.accounts] == [notification.account.acct]
    assert relationship.followed_by is True
    assert followers == []
    assert [a.acct for a in own_followers] == [notification.account.acct]
    assert status.id in [s.id for s in local] and [s.id for s in tagged] == [status.id]
    assert notification.id not in [n.id for n in after]
    # And every answer has each field Mastodon.py declares for it
    assert entity_gaps(return_types.Context, thread) == []
    assert entity_gaps(return_types.Relationship, relationship) == []
    assert entity_gaps(return_types.Marker, marker["notifications"]) == []
    assert entity_gaps(return_types.SearchV2, found) == []
    assert entity_gaps(return_types.Account, found.accounts[0]) == []
    # And Fedify receives the answer threaded under its reply, the edit, and the deletion
    threaded = await fedify_received(fedify, "Create", about(answer.uri))
    assert threaded["json"]["object"]["inReplyTo"] == reply["note"]
    await fedify_received(fedify, "Update", about(answer.uri))
    await call("status_delete", answer.id)
    await fedify_received(fedify, "Delete", lambda a: True)


async def test_mastodon_py_follows_fedify_reads_home_and_favourites_and_reblogs(
    live: Any, fedify: FedifyClient
) -> None:
    # Given an app signed in as the bakery
    _owner, token = await business_with_token(live.client)
    api = await anyio.to_thread.run_sync(
        lambda: Mastodon(access_token=token, api_base_url=live.base_url)
    )

    def call(method: str, *args: Any, **kwargs: Any) -> Any:
        return anyio.to_thread.run_sync(lambda: getattr(api, method)(*args, **kwargs))

    # When it finds Fedify and follows it
    found = await call("search_v2", fedify.handle, resolve=True)
    [account] = found.accounts
    asked = await call("account_follow", account.id)
    follow = await fedify_received(fedify, "Follow")
    assert follow["verified"], follow

    async def following() -> Any:
        [relation] = await call("account_relationships", [account.id])
        return relation if relation.following else None

    relation = await wait_until(following)
    me = await call("account_verify_credentials")
    follows = await call("account_following", me.id)
    # Then it follows Fedify, as the relationship and its following list say
    assert asked.requested or asked.following
    assert entity_gaps(return_types.Relationship, relation) == []
    assert [a.id for a in follows] == [account.id]

    # When Fedify posts, the post reaches the home timeline
    sent = await fedify.post("<p>Fresh plums today</p>", live.urls.actor("bakery"))
    assert sent["ok"], sent

    async def in_home() -> Any:
        found = [s for s in await call("timeline_home") if s.uri == sent["note"]]
        return found[0] if found else None

    status = await wait_until(in_home, timeout=15)
    assert status.account.id == account.id and status.favourited is False
    assert entity_gaps(return_types.Status, status) == []

    # When the app favourites it, then takes it back
    liked = await call("status_favourite", status.id)
    like = await fedify_received(fedify, "Like", about(sent["note"]))
    favourites = await call("favourites")
    unliked = await call("status_unfavourite", status.id)
    await fedify_received(fedify, "Undo", lambda a: a["object"]["type"] == "Like")
    # Then Fedify verified the Like and its Undo, and the marks followed
    assert like["verified"], like
    assert liked.favourited is True and unliked.favourited is False
    assert [s.id for s in favourites] == [status.id]

    # When it reblogs it, then takes it back
    reblog = await call("status_reblog", status.id)
    announce = await fedify_received(fedify, "Announce", about(sent["note"]))
    unreblogged = await call("status_unreblog", status.id)
    await fedify_received(fedify, "Undo", lambda a: a["object"]["type"] == "Announce")
    # Then the answer is the reblog wrapper, and Fedify verified the Announce and its Undo
    assert announce["verified"], announce
    assert reblog.reblog.id == status.id and reblog.account.id == me.id
    assert reblog.reblogged is True and unreblogged.reblogged is False
    assert entity_gaps(return_types.Status, reblog) == []

    # When it unfollows Fedify
    ended = await call("account_unfollow", account.id)
    # Then Fedify receives the Undo of the Follow
    await fedify_received(fedify, "Undo", lambda a: a["object"]["type"] == "Follow")
    assert ended.following is False
