"""The streaming API driven by real clients against a live server, both backends:
Mastodon.py's ``stream_user`` over server-sent events, the ``websockets`` library over a
WebSocket, and a second server on the same database (another web process) that hears of
what the first one did. Bad tokens, scopes and streams get Mastodon's answers."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import anyio
import httpx
import pytest
import websockets
from mastodon import StreamListener, return_types

from fedi_town import serving
from fedi_town.app import create_app
from fedi_town.mastodon.streaming import MAX_PER_TOKEN
from fedi_town.services import Services, WorkerOptions
from tests.conftest import make_settings
from tests.inbound import payloads as p
from tests.live import bind_loopback, live_instance, wait_until
from tests.mastodon.flow import (
    SignedIn,
    bearer,
    business_with_token,
    entity_gaps,
    follow_accepted,
    token_for,
)
from tests.test_serving import serve_config

pytestmark = pytest.mark.anyio


class Collector(StreamListener):  # type: ignore[misc]
    """Every event Mastodon.py parsed, in order, and how many heartbeats came."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, Any]] = []
        self.heartbeats = 0

    def on_update(self, status: Any) -> None:
        self.events.append(("update", status))

    def on_status_update(self, status: Any) -> None:
        self.events.append(("status.update", status))

    def on_delete(self, status_id: Any) -> None:
        self.events.append(("delete", status_id))

    def on_notification(self, notification: Any) -> None:
        self.events.append(("notification", notification))

    def handle_heartbeat(self) -> None:
        self.heartbeats += 1

    def of(self, kind: str) -> list[Any]:
        return [data for name, data in self.events if name == kind]


async def test_mastodon_py_hears_posts_mentions_edits_and_deletions(
    live: Any, peer: Any, bakery_app: SignedIn
) -> None:
    # Given an app signed in as the bakery, streaming its user stream with Mastodon.py
    call = bakery_app.call
    heard = Collector()
    handle = await call("stream_user", heard, run_async=True)
    try:
        await wait_until(lambda: heard.heartbeats)
        # When the business posts, a customer elsewhere mentions it in a reply, and the
        # business edits then deletes its post
        status = await call("status_post", "Fresh rye at eight")
        await wait_until(lambda: [s for s in heard.of("update") if s.id == status.id])
        reply = peer.reply(status.uri, live.urls.actor("bakery"), "<p>Save me one!</p>")
        assert (await peer.post(live.urls.inbox("bakery"), reply)).status_code == 202
        [mention] = await wait_until(lambda: heard.of("notification"))
        await call("status_update", status.id, "Fresh rye at nine")
        [edited] = await wait_until(lambda: heard.of("status.update"))
        await call("status_delete", status.id)
        [deleted] = await wait_until(lambda: heard.of("delete"))
    finally:
        await anyio.to_thread.run_sync(handle.close)
    # Then each reached the stream as Mastodon names it, with Mastodon's entities
    [update] = heard.of("update")
    assert update.content == "<p>Fresh rye at eight</p>"
    assert mention.type == "mention"
    assert mention.account.acct == f"alice@{peer.host}"
    assert mention.status.uri == reply["object"]["id"]
    assert edited.id == status.id and edited.content == "<p>Fresh rye at nine</p>"
    assert str(deleted) == str(status.id)


def _create(peer: Any, name: str, content: str) -> dict[str, Any]:
    """Create{Note} of a public post by ``name`` on the peer (to its followers)."""
    note = peer.add_note(name, content)
    body = {k: v for k, v in note.items() if k != "@context"}
    return p.create_of(peer.actor(name).uri, body)


async def test_mastodon_py_hears_followed_accounts_on_the_home_stream(
    live: Any, peer: Any, bakery_app: SignedIn
) -> None:
    # Given the bakery following alice and bob elsewhere (bob muted from the app), and
    # Mastodon.py streaming its user stream
    call = bakery_app.call
    me = await call("account_verify_credentials")
    accounts = {}
    for name in ("alice", "bob"):
        [account] = (await call("search_v2", peer.handle(name), resolve=True)).accounts
        await follow_accepted(live, int(me.id), int(account.id), name)
        accounts[name] = account
    await call("account_mute", accounts["bob"].id)
    heard = Collector()
    handle = await call("stream_user", heard, run_async=True)
    inbox = live.urls.inbox("bakery")
    try:
        await wait_until(lambda: heard.heartbeats)
        # When bob (muted) posts, then alice posts
        muted = _create(peer, "bob", "<p>Muted bread</p>")
        assert (await peer.post(inbox, muted, name="bob")).status_code == 202
        first = _create(peer, "alice", "<p>Sourdough day</p>")
        assert (await peer.post(inbox, first)).status_code == 202
        # Then alice's post is heard as an update, as the home timeline shows it; bob's not
        [update] = await wait_until(lambda: heard.of("update"))
        [home, *_] = await call("timeline_home")
        # When alice boosts her post, undoes the boost, and deletes the post
        boost = peer.announce(first["object"]["id"], peer.actor("alice").uri)
        assert (await peer.post(inbox, boost)).status_code == 202
        [_, reblog] = await wait_until(lambda: heard.of("update")[1:] and heard.of("update"))
        assert (await peer.post(inbox, peer.undo(boost))).status_code == 202
        await wait_until(lambda: heard.of("delete"))
        delete = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{first['object']['id']}#delete",
            "type": "Delete",
            "actor": peer.actor("alice").uri,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": {"id": first["object"]["id"], "type": "Tombstone"},
        }
        assert (await peer.post(inbox, delete)).status_code == 202
        deleted = await wait_until(lambda: heard.of("delete")[1:] and heard.of("delete"))
    finally:
        await anyio.to_thread.run_sync(handle.close)
    # Then the post came as Mastodon's Status (alice's account, the note's uri), the same
    # one the home timeline shows
    assert update.uri == first["object"]["id"] and update.account.acct == f"alice@{peer.host}"
    assert update.content == "<p>Sourdough day</p>" and update.reblog is None
    assert update.id == home.id
    assert entity_gaps(return_types.Status, update) == []
    # And the boost as a reblog of it, whose id the undo deleted; the post's deletion too
    assert reblog.reblog.id == update.id and reblog.account.acct == f"alice@{peer.host}"
    assert [str(d) for d in deleted] == [str(reblog.id), str(update.id)]
    # And nothing of bob's came
    assert not [s for s in heard.of("update") if s.account.acct.startswith("bob@")]


async def test_mastodon_py_over_a_websocket_hears_a_mention(
    live: Any, peer: Any, bakery_app: SignedIn
) -> None:
    # Given Mastodon.py's WebSocket, subscribed to the bakery's user and notification
    # streams (one post first, heard on the user stream, shows the subscriptions hold)
    api, token = bakery_app.api, bakery_app.token
    healthy = await anyio.to_thread.run_sync(api.stream_healthy)
    heard, noted = Collector(), Collector()
    socket = await anyio.to_thread.run_sync(lambda: api.stream_open_websocket())
    try:
        await anyio.to_thread.run_sync(lambda: api.stream_user(heard, websocket_handle=socket))
        await anyio.to_thread.run_sync(
            lambda: api.stream_user_notifications(noted, websocket_handle=socket)
        )

        async def heard_a_post() -> list[Any]:
            if not heard.of("update"):
                body = {"status": "Croissants at seven"}
                await live.client.post("/api/v1/statuses", data=body, headers=bearer(token))
            return heard.of("update")

        [status, *_] = await wait_until(heard_a_post)
        # When a customer elsewhere mentions the bakery in a reply
        reply = peer.reply(status.uri, live.urls.actor("bakery"), "<p>Two please</p>")
        assert (await peer.post(live.urls.inbox("bakery"), reply)).status_code == 202
        [mention] = await wait_until(lambda: noted.of("notification"))
        await wait_until(lambda: heard.of("notification"))
    finally:
        await anyio.to_thread.run_sync(socket.close)
    # Then the streaming API was healthy, and the mention came on both streams
    assert healthy is True
    assert mention.type == "mention"
    assert mention.status.uri == reply["object"]["id"]
    assert noted.of("update") == []


async def _messages(socket: Any, count: int) -> list[dict[str, Any]]:
    found = []
    with anyio.fail_after(10):
        while len(found) < count:
            found.append(json.loads(await socket.recv()))
    return found


async def test_a_websocket_subscribes_and_hears_the_local_timeline(live: Any) -> None:
    # Given a WebSocket of the bakery's app on its notifications, which then subscribes to
    # the local timeline, to a stream that does not exist, and to a hashtag without its tag
    _owner, token = await business_with_token(live.client)
    url = live.base_url.replace("http://", "ws://") + "/api/v1/streaming"
    async with websockets.connect(f"{url}?stream=user:notification&access_token={token}") as ws:
        await ws.send(json.dumps({"type": "subscribe", "stream": "public:local"}))
        await ws.send(json.dumps({"type": "subscribe", "stream": "nope"}))
        await ws.send(json.dumps({"type": "subscribe", "stream": "hashtag"}))
        await ws.send("not json")
        errors = await _messages(ws, 3)
        # When the bakery posts in public, and in private
        for text, visibility in (("Open late", "public"), ("For followers", "private")):
            body = {"status": text, "visibility": visibility}
            answer = await live.client.post("/api/v1/statuses", data=body, headers=bearer(token))
            assert answer.status_code == 200, answer.text
        [message] = await _messages(ws, 1)
    # Then the bad subscriptions were answered as Mastodon answers them, and the public
    # post came on the local stream with its Status as a JSON string
    assert errors == [
        {"error": "Unknown stream type", "status": 400},
        {"error": "Missing tag name parameter", "status": 400},
        {"error": "Unknown message", "status": 400},
    ]
    assert message["stream"] == ["public:local"]
    assert message["event"] == "update"
    assert json.loads(message["payload"])["content"] == "<p>Open late</p>"


async def test_another_web_process_hears_what_this_one_did(live: Any, tmp_path: Any) -> None:
    # Given a second server on the same database (another web process), and the bakery's
    # app streaming from that one
    _owner, token = await business_with_token(live.client)
    async with live_instance(live.settings.database_url, tmp_path / "other") as other:
        ws_url = other.base_url.replace("http://", "ws://") + "/api/v1/streaming"
        async with websockets.connect(f"{ws_url}?stream=user&access_token={token}") as ws:
            # When the first server publishes a post
            body = {"status": "Baked on the other side"}
            answer = await live.client.post("/api/v1/statuses", data=body, headers=bearer(token))
            [message] = await _messages(ws, 1)
    # Then the stream of the second server carried it
    assert message["stream"] == ["user"]
    assert json.loads(message["payload"])["id"] == answer.json()["id"]


async def test_streams_refuse_bad_tokens_scopes_and_streams(live: Any) -> None:
    # Given tokens of the bakery with read, with write only, and with read:notifications
    owner, token = await business_with_token(live.client)
    writer = await token_for(live.client, owner, scopes="write")
    notified = await token_for(live.client, owner, scopes="read:notifications")
    # When streams are asked for with each
    health = await live.client.get("/api/v1/streaming/health")
    missing = await live.client.get("/api/v1/streaming/user")
    wrong = await live.client.get("/api/v1/streaming/user", headers=bearer("ftmasto_nope"))
    unscoped = await live.client.get("/api/v1/streaming/user", headers=bearer(writer))
    narrow = await live.client.get("/api/v1/streaming/public/local", headers=bearer(notified))
    unknown = await live.client.get("/api/v1/streaming?stream=nope", headers=bearer(token))
    no_path = await live.client.get("/api/v1/streaming/nope", headers=bearer(token))
    instance = (await live.client.get("/api/v1/instance")).json()
    v2 = (await live.client.get("/api/v2/instance")).json()
    ws_url = live.base_url.replace("http://", "ws://") + "/api/v1/streaming"
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(f"{ws_url}?stream=user&access_token=ftmasto_nope"):
            pass
    # Then Mastodon's answers: 401 without a good token or without the scope (as
    # Mastodon's streaming server), 400 for an unknown stream, 404 for an unknown path
    assert (health.status_code, health.text) == (200, "OK")
    assert (missing.status_code, missing.json()) == (401, {"error": "Missing access token"})
    assert wrong.status_code == 401
    assert unscoped.status_code == 401
    assert unscoped.json() == {"error": "Access token does not have the required scopes"}
    assert narrow.status_code == 401
    assert (unknown.status_code, unknown.json()) == (400, {"error": "Unknown stream type"})
    assert no_path.status_code == 404
    assert refused.value.response.status_code == 401
    # And the instance tells apps where to stream
    assert instance["urls"]["streaming_api"] == ws_url.removesuffix("/api/v1/streaming")
    assert v2["configuration"]["urls"]["streaming"] == instance["urls"]["streaming_api"]


async def test_streams_outlive_the_request_deadline_of_fedi_town_serve(
    database_url: str, tmp_path: Any
) -> None:
    # Given the app configured as `fedi-town serve` runs it (httptools with the request
    # deadline, the body budget), with a deadline of one second
    sock = bind_loopback()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = make_settings(
        database_url,
        tmp_path,
        base_url=base,
        request_timeout=1,
        allow_private_addresses=True,
        worker="in-process",
    )
    services = Services.from_settings(settings)
    services.worker = WorkerOptions(poll_seconds=0.05, stop_deadline=2.0)
    config = serving.server_config(create_app(settings, services), settings, log_level="warning")
    async with serve_config(config, sock), httpx.AsyncClient(base_url=base, timeout=10) as client:
        _owner, token = await business_with_token(client)
        ws_url = (
            base.replace("http://", "ws://") + f"/api/v1/streaming?stream=user&access_token={token}"
        )
        async with (
            websockets.connect(ws_url) as ws,
            client.stream("GET", "/api/v1/streaming/user", headers=bearer(token)) as sse,
        ):
            lines = sse.aiter_lines()
            assert await anext(lines) == ":)"
            # When both stay open past the deadline, then the business posts
            await anyio.sleep(2.5)
            body = {"status": "Still here"}
            await client.post("/api/v1/statuses", data=body, headers=bearer(token))
            [message] = await _messages(ws, 1)
            with anyio.fail_after(10):
                event = [line async for line in _until_data(lines)]
    # Then both carried the post: the deadline bounds requests, not streams
    assert message["event"] == "update"
    assert event[-2:] == ["event: update", event[-1]]
    assert json.loads(event[-1].removeprefix("data: "))["content"] == "<p>Still here</p>"


async def test_one_token_holds_only_so_many_streams(live: Any) -> None:
    # Given a token already holding as many streams as one token may
    _owner, token = await business_with_token(live.client)
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(MAX_PER_TOKEN):
            opened = await stack.enter_async_context(
                live.client.stream("GET", "/api/v1/streaming/user", headers=bearer(token))
            )
            assert opened.status_code == 200
        # When it opens one more
        refused = await live.client.get("/api/v1/streaming/user", headers=bearer(token))
    # Then that one is refused, and the ended ones leave room again

    async def room() -> bool:
        async with live.client.stream(
            "GET", "/api/v1/streaming/user", headers=bearer(token)
        ) as again:
            return again.status_code == 200

    assert (refused.status_code, refused.json()) == (
        429,
        {"error": "Too many streaming connections for this token"},
    )
    assert await wait_until(room)


async def _until_data(lines: Any) -> Any:
    async for line in lines:
        if line:
            yield line
        if line.startswith("data: "):
            return
