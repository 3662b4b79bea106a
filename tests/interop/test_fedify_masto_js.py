"""masto.js 6, the library Elk and Phanpy are built on, drives the Mastodon client API
from Node (tests/mastodon/masto-js/flow.mjs) while Fedify plays a customer elsewhere: the
app signs in through the real consent page, posts a photo that reaches Fedify, finds
Fedify's reply in its notifications, answers it (the answer reaches Fedify, threaded),
edits and deletes. Both database backends."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.interop.harness import (
    MASTO_JS_DIR,
    FedifyClient,
    PeerUnavailable,
    ensure_installed,
    node_binary,
)
from tests.interop.owner import fedify_received
from tests.live import wait_until
from tests.mastodon.flow import code_from, consent
from tests.webapp.kit import owner_of

pytestmark = pytest.mark.anyio

STEP_TIMEOUT = 60.0


class Script:
    """The Node script, spoken to by JSON lines."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def hear(self, step: str) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), STEP_TIMEOUT)
        if not line:
            assert self.process.stderr is not None
            error = await self.process.stderr.read()
            raise AssertionError(f"masto.js script ended: {error.decode()[-4000:]}")
        message: dict[str, Any] = json.loads(line)
        assert message["step"] == step, message
        return message

    async def say(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        await self.process.stdin.drain()


def about(uri: str) -> Any:
    def check(activity: dict[str, Any]) -> bool:
        obj = activity.get("object")
        return (obj.get("id") if isinstance(obj, dict) else obj) == uri

    return check


async def test_masto_js_posts_a_photo_and_answers_a_fedify_reply(
    live: Any, fedify: FedifyClient
) -> None:
    try:
        ensure_installed(MASTO_JS_DIR)
    except PeerUnavailable as exc:
        pytest.fail(f"masto.js could not be installed: {exc}")
    # Given a business whose owner is signed in to the owner app, followed by Fedify
    owner = await owner_of(live.client, "bakery")
    actor = live.urls.actor("bakery")
    assert (await fedify.follow(actor))["ok"]
    await fedify.wait_for("Accept")
    process = await asyncio.create_subprocess_exec(
        node_binary(),
        "flow.mjs",
        live.base_url,
        cwd=MASTO_JS_DIR,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    script = Script(process)
    try:
        # When masto.js registers an app and the owner allows it on the consent page
        authorize = await script.hear("authorize")
        await script.say({"code": code_from(await consent(owner, authorize["url"]))})
        # Then its post with a photo reaches Fedify
        posted = (await script.hear("posted"))["status"]
        create = await fedify_received(fedify, "Create", about(posted["uri"]))
        [image] = create["json"]["object"]["attachment"]
        assert image["mediaType"] == "image/png" and image["name"] == "A loaf of rye"
        # When Fedify replies, and masto.js answers the reply, edits and deletes
        reply = await fedify.reply(posted["uri"], "<p>Until when?</p>")
        await script.say({"reply": reply["note"]})
        done = await script.hear("done")
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
    # Then every call answered as Mastodon would
    assert done["instance"]["version"].startswith("4.4.0")
    assert done["me"]["acct"] == "bakery"
    assert done["media"]["description"] == "A loaf of rye"
    assert [m["id"] for m in posted["mediaAttachments"]] == [done["media"]["id"]]
    assert done["notification"]["type"] == "mention"
    assert done["notification"]["account"]["acct"] == fedify.handle.lstrip("@")
    assert done["unreadBefore"] >= 1 and done["unreadAfter"] == 0
    assert done["answer"]["inReplyToId"] == done["notification"]["status"]["id"]
    assert done["edited"]["content"] == "<p>Until seven!</p>"
    thread = [s["id"] for s in done["context"]["descendants"]]
    assert thread == [done["notification"]["status"]["id"], done["answer"]["id"]]
    assert done["markers"]["notifications"]["lastReadId"] == done["notification"]["id"]
    assert done["found"]["accounts"] == [done["notification"]["account"]["acct"]]
    [relationship] = done["relationships"]
    assert relationship["followedBy"] is True
    assert done["followers"] == [done["notification"]["account"]["acct"]]
    reply_id = done["notification"]["status"]["id"]
    assert done["favourited"] == {"id": reply_id, "favourited": True}
    assert done["favourites"] == [reply_id] and done["unfavourited"]["favourited"] is False
    assert done["reblogged"] == {"account": done["me"]["id"], "reblog": reply_id, "reblogged": True}
    assert done["unreblogged"]["reblogged"] is False
    assert done["followed"]["requested"] or done["followed"]["following"]
    assert isinstance(done["home"], list)
    assert done["unfollowed"]["following"] is False and done["unfollowed"]["requested"] is False
    assert posted["id"] in done["local"]
    assert done["notification"]["id"] not in done["afterDismiss"]
    assert done["deletedAnswer"]["text"] == "Until seven!"
    assert done["gone"]["status"] == 404
    # And Fedify got the answer threaded under its reply, its edit, and both deletions
    answer_uri = done["answer"]["uri"]
    threaded = await fedify_received(fedify, "Create", about(answer_uri))
    assert threaded["json"]["object"]["inReplyTo"] == reply["note"]
    await fedify_received(fedify, "Update", about(answer_uri))
    # And Fedify verified the Like, the Announce, the Follow, and the Undo of each
    for kind in ("Like", "Announce"):
        given = await fedify_received(fedify, kind, about(reply["note"]))
        assert given["verified"], given
    assert (await fedify_received(fedify, "Follow"))["verified"]
    for kind in ("Like", "Announce", "Follow"):
        await fedify_received(fedify, "Undo", lambda a, kind=kind: a["object"]["type"] == kind)

    async def deletions() -> list[dict[str, Any]]:
        found = [a for a in await fedify.received() if a["type"] == "Delete"]
        return found if len(found) >= 2 else []

    assert len(await wait_until(deletions, timeout=15.0, interval=0.1)) == 2
