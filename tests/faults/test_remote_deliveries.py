"""Deliveries to remote servers that misbehave, through the real worker: each attempt is
bounded in time and memory, its row is retried or given up by the failure's class, and the
other deliveries of the same activity arrive once each, none lost or duplicated.

The misbehaving servers are raw asyncio servers on loopback (tests/remote covers the HTTP
client's own reactions one by one; these run the whole path: queue, worker, retry rule).
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedi_town.app import create_app
from fedi_town.remote.http import RemoteClient
from fedi_town.services import Services, WorkerOptions
from fedi_town.store import outbox
from fedi_town.store.db import now_ms
from fedi_town.store.effects import Wake
from tests.conftest import make_settings
from tests.live import LiveInstance, bind_loopback, serve_app, wait_until
from tests.peer import Hang, Status, TestPeer
from tests.reliability import record

pytestmark = pytest.mark.anyio

READ_TIMEOUT = 1.0
TOTAL_TIMEOUT = 3.0

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)


async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Reads the request, never answers."""
    await _read_request(reader)
    await asyncio.sleep(3600)


async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers a header line a byte at a time, each byte within the read timeout, forever."""
    await _read_request(reader)
    writer.write(b"HTTP/1.1 202 Accepted\r\n")
    while True:
        writer.write(b"X")
        await writer.drain()
        await asyncio.sleep(READ_TIMEOUT / 4)


def redirect_to(location: Callable[[str], str]) -> Handler:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(
            b"HTTP/1.1 307 Temporary Redirect\r\nContent-Length: 0\r\nLocation: "
            + location("").encode()
            + b"\r\n\r\n"
        )
        await writer.drain()

    return answer


async def endless_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers 202 with a body that never ends (a gigabyte announced, streamed on)."""
    await _read_request(reader)
    writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 1073741824\r\n\r\n")
    chunk = b"x" * 65536
    while True:
        writer.write(chunk)
        await writer.drain()


@contextlib.asynccontextmanager
async def misbehaving(handler: Handler) -> AsyncIterator[str]:
    """A server on loopback answering every connection with ``handler``; yields its base."""
    tasks: set[asyncio.Task[None]] = set()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await handler(reader, writer)
        writer.close()

    server = await asyncio.start_server(connected, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def instance(database_url: str, tmp_path: Path) -> AsyncIterator[LiveInstance]:
    """A live fedi-town whose outbound client has short timeouts (as tests/live.py's)."""
    sock = bind_loopback()
    port = sock.getsockname()[1]
    settings = make_settings(
        database_url,
        tmp_path,
        base_url=f"http://127.0.0.1:{port}",
        allow_private_addresses=True,
        worker="in-process",
    )
    services = Services.from_settings(settings)
    services.worker = WorkerOptions(poll_seconds=0.05, stop_deadline=2.0)
    services.remote = RemoteClient(
        allow_private=True,
        user_agent="fedi-town/test",
        read_timeout=READ_TIMEOUT,
        total_timeout=TOTAL_TIMEOUT,
    )
    async with serve_app(create_app(settings, services), sock):
        async with httpx.AsyncClient(base_url=settings.base_url, timeout=10) as client:
            yield LiveInstance(settings.base_url, settings, services, client)


def peak_rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


async def rows_by_inbox(store: Any) -> dict[str, Any]:
    rows = await store.fetch_all("SELECT * FROM deliveries", {})
    return {str(r["inbox"]): r for r in rows}


async def test_misbehaving_servers_are_bounded_and_classed_and_the_others_get_it_once(
    database_url, tmp_path
):
    async with (
        instance(database_url, tmp_path) as live,
        TestPeer.running("alice") as good,
        TestPeer.running("bob") as second,
        misbehaving(hang) as hanging,
        misbehaving(trickle) as trickling,
        misbehaving(redirect_to(lambda _: "/inbox")) as looping,
        misbehaving(redirect_to(lambda _: "http://10.0.0.1/inbox")) as to_private,
        misbehaving(endless_answer) as endless,
    ):
        # Given a business and one activity for two good servers and five bad ones
        business = await live.create_business("bakery")
        actor = f"{live.base_url}/users/bakery"
        inboxes = {
            "good": f"{good.base}/inbox",
            "second good": f"{second.base}/inbox",
            "hangs": f"{hanging}/inbox",
            "trickles its answer": f"{trickling}/inbox",
            "redirects in a loop": f"{looping}/inbox",
            "redirects to a private address": f"{to_private}/inbox",
            "answers without end": f"{endless}/inbox",
        }
        rss_before = peak_rss_mb()
        started = asyncio.get_running_loop().time()
        await outbox.enqueue(
            live.store,
            business_id=int(business["id"]),
            body={
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": f"{actor}#faults/1",
                "type": "Create",
                "actor": actor,
                "object": {"id": f"{actor}#n/1", "type": "Note", "content": "hi"},
            },
            inboxes=list(inboxes.values()),
            now=now_ms(),
        )
        live.services.store.after_commit(Wake())

        # When every row has had its first attempt (none still leased)
        async def attempted() -> bool:
            rows = await rows_by_inbox(live.store)
            return len(rows) == 7 and all(
                r["attempts"] >= 1 and r["locked_until"] is None for r in rows.values()
            )

        await wait_until(attempted, timeout=TOTAL_TIMEOUT * 5)
        elapsed = asyncio.get_running_loop().time() - started
        rows = await rows_by_inbox(live.store)
        growth = peak_rss_mb() - rss_before
        # Then the good servers got the activity exactly once each
        # And each bad one was bounded by the total deadline and classed by the retry rule
        expected = {
            "good": ("done", 202),
            "second good": ("done", 202),
            "hangs": ("pending", None),  # timeout: retried later
            "trickles its answer": ("pending", None),  # timeout: retried later
            "redirects in a loop": ("failed", 307),  # 3xx: given up, never followed
            "redirects to a private address": ("failed", 307),
            "answers without end": ("done", 202),  # only the start of an answer is read
        }
        got = {"good": len(good.received), "second good": len(second.received)}
        for name, inbox in inboxes.items():
            row = rows[inbox]
            copies = got.get(name, 1)  # a bad server's copy is not counted: it is retried
            record(
                "faults",
                f"delivery beside misbehaving servers ({name})"
                if name in got
                else f"delivery to a server that {name}",
                f"{row['state']} {row['last_status'] or row['last_error']}",
                lost=1 if copies == 0 else 0,
                duplicates=max(0, copies - 1),
                seconds=round(elapsed, 1),
            )
        for name, (state, status) in expected.items():
            row = rows[inboxes[name]]
            assert (row["state"], row["last_status"]) == (state, status), name
        for name in ("hangs", "trickles its answer"):
            row = rows[inboxes[name]]
            assert row["last_error"] == "timeout"
            assert row["next_attempt_at"] > row["created_at"]
        assert (len(good.received), len(second.received)) == (1, 1)
        assert elapsed < TOTAL_TIMEOUT * 5
        assert growth < 64  # MB: the endless answer was not read into memory


@pytest.mark.parametrize(
    ("first", "case"),
    [
        (Hang(TOTAL_TIMEOUT * 3), "hangs once, then answers"),
        (Status(503, {"Retry-After": "1"}), "answers 503 once, then 202"),
        (Status(500), "answers 500 once, then 202"),
    ],
)
async def test_a_server_that_fails_once_gets_the_activity_on_the_retry(
    database_url, tmp_path, first, case
):
    async with instance(database_url, tmp_path) as live, TestPeer.running("alice") as flaky:
        # Given a server whose inbox fails its first request, then answers 202
        flaky.behave("shared", [first, Status(202)])
        business = await live.create_business("bakery")
        inbox = f"{flaky.base}/inbox"
        actor = f"{live.base_url}/users/bakery"
        await outbox.enqueue(
            live.store,
            business_id=int(business["id"]),
            body={"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor}#f/2",
                  "type": "Create", "actor": actor,
                  "object": {"id": f"{actor}#n/2", "type": "Note", "content": "hi"}},
            inboxes=[inbox],
            now=now_ms(),
        )  # fmt: skip
        live.services.store.after_commit(Wake())

        async def first_attempt_over() -> Any:
            row = (await rows_by_inbox(live.store))[inbox]
            return row["attempts"] >= 1 and row["locked_until"] is None and row

        row = await wait_until(first_attempt_over, timeout=TOTAL_TIMEOUT * 5)
        # Then the row waits for a retry (backoff, or the Retry-After)
        assert (row["state"], row["attempts"]) == ("pending", 1)
        # When its retry time comes (brought forward: backoff starts at 30 s)
        await live.store.execute(
            "UPDATE deliveries SET next_attempt_at = 0 WHERE id = :id", {"id": row["id"]}
        )
        live.services.store.after_commit(Wake())

        async def done() -> Any:
            found = (await rows_by_inbox(live.store))[inbox]
            return found["state"] == "done" and found

        row = await wait_until(done, timeout=TOTAL_TIMEOUT * 5)
        # Then it is delivered; a hung first request may have arrived too (at least once,
        # receivers dedupe by activity id), nothing is lost
        copies = len(flaky.received)
        record(
            "faults",
            f"delivery to a server that {case}",
            f"done after {row['attempts']} attempts",
            lost=0 if copies else 1,
            # the first request reached the server each time (it hung or refused), so two
            # copies arrived: one refused or unanswered, one accepted
            duplicates=max(0, copies - 2),
        )
        assert row["last_status"] == 202 and row["attempts"] == 2
        assert copies == 2
