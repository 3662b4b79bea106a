"""The app's edge: how errors reach browsers and clients."""

from __future__ import annotations

import asyncio

import pytest

from fedi_town.store.effects import Wake


@pytest.mark.anyio
async def test_an_unknown_path_is_a_page_for_browsers_and_a_problem_for_clients(app_client):
    page = await app_client.get("/no/such/page", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    api = await app_client.get("/api/v1/admin/nothing", headers={"Accept": "text/html"})
    assert api.headers["content-type"] == "application/problem+json"
    # The rest of /api/v1 is the Mastodon client API's: its own error shape
    mastodon = await app_client.get("/api/v1/nothing", headers={"Accept": "text/html"})
    assert mastodon.json() == {"error": "Record not found"}
    client = await app_client.get("/no/such/page", headers={"Accept": "application/json"})
    assert client.headers["content-type"] == "application/problem+json"


@pytest.mark.anyio
async def test_inboxes_answer_the_same_through_starlettes_routes_as_through_the_fast_path(
    settings,
):
    # The fast path hands inbox POSTs to InboxEndpoint before routing; the Starlette routes
    # declare the same paths and must lead to the same answers (and 405 for other methods).
    import httpx

    from fedi_town.app import create_app
    from fedi_town.services import Services

    app = create_app(settings, Services.from_settings(settings))

    async def routed_only(scope, receive, send):  # Starlette's router, no fast path
        scope["app"] = app
        await app.router(scope, receive, send)

    json_type = {"Content-Type": "application/activity+json"}
    async with app.router.lifespan_context(app):
        answers = {}
        for name, entry in (("fast", app), ("routed", routed_only)):
            transport = httpx.ASGITransport(app=entry)
            async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as c:
                answers[name] = [
                    (r.status_code, r.headers["content-type"], r.json()["detail"])
                    for r in (
                        await c.post("/inbox", content=b"{not json", headers=json_type),
                        await c.post("/actor/inbox", content=b"[1]", headers=json_type),
                        await c.post("/users/nobody/inbox", content=b"{}", headers=json_type),
                        await c.post("/inbox", content=b"{}", headers={"Content-Type": "text/x"}),
                    )
                ]
                if entry is app:  # the whole app: other methods are refused by the routes
                    other = await c.get("/inbox", headers={"Accept": "application/json"})
                    assert other.status_code == 405
    assert answers["fast"] == answers["routed"]
    assert [status for status, _, _ in answers["fast"]] == [400, 400, 404, 415]
    assert {kind for _, kind, _ in answers["fast"]} == {"application/problem+json"}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("declared", "status"), [(b"abc", 400), (b"99999999999", 413)], ids=["not-a-number", "huge"]
)
async def test_an_inbox_refuses_a_bad_content_length_before_reading_the_body(
    settings, declared, status
):
    import json

    from fedi_town.app import create_app
    from fedi_town.services import Services

    app = create_app(settings, Services.from_settings(settings))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/inbox", "raw_path": b"/inbox", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        "headers": [(b"content-type", b"application/activity+json"),
                    (b"content-length", declared)],
    }  # fmt: skip
    sent: list[dict] = []

    async def receive():  # the body is never asked for
        raise AssertionError("the body was read")

    async def send(message):
        sent.append(message)

    async with app.router.lifespan_context(app):
        await app(scope, receive, send)
    assert sent[0]["status"] == status
    assert json.loads(sent[1]["body"])["status"] == status


@pytest.mark.anyio
async def test_a_failed_start_closes_the_database_it_opened(tmp_path):
    # Given an instance whose database file is not a database (connecting works, migrating
    # fails)
    import threading

    from fedi_town.app import startup
    from fedi_town.services import Services
    from tests.conftest import make_settings

    database = tmp_path / "town.sqlite3"
    database.write_bytes(b"not a database " * 100)
    settings = make_settings(f"sqlite:///{database}", tmp_path)
    services = Services.from_settings(settings)
    before = set(threading.enumerate())
    # When the start fails
    with pytest.raises(Exception, match="not a database"):
        await startup(services)
    # Then no connection (and no SQLite connection thread, which would keep the process
    # alive after the server gave up) is left open
    assert services.store._writer is None and not services.store._readers
    opened = [
        t for t in threading.enumerate() if t not in before and "_connection_worker" in t.name
    ]
    for thread in opened:
        thread.join(timeout=5)  # a closed connection's thread ends right after closing
    assert [t.name for t in opened if t.is_alive()] == []


@pytest.mark.anyio
async def test_an_inbox_row_that_is_not_utf8_does_not_stop_the_instance_even_after_restart(
    tmp_path,
):
    # Given a running instance (SQLite: the only database that can hold such a row) and an
    # inbox row whose text is not UTF-8, written straight into its database
    import sqlite3

    from tests.live import live_instance, wait_until
    from tests.reliability import record
    from tests.store.test_db import BAD_ROW

    path = tmp_path / "town.sqlite3"
    url = f"sqlite:///{path}"
    statuses = []
    async with live_instance(url, tmp_path) as live:
        statuses.append((await live.create_business("bakery")) and 201)

        # (waiting up to 30 s for the instance's worker to let go of the write lock, in a
        # thread: waiting on this event loop would stop the worker that holds it)
        def write_bad_row() -> None:
            with sqlite3.connect(path, timeout=30) as raw:
                raw.execute(BAD_ROW, {"id": 1})

        await asyncio.to_thread(write_bad_row)
        live.services.store.after_commit(Wake())

        async def failed() -> bool:
            row = await live.store.fetch_one("SELECT state FROM inbox_items WHERE id = 1")
            return row is not None and row["state"] == "failed"

        # When the worker meets it
        await wait_until(failed, timeout=10)
        # Then the instance still writes
        statuses.append((await live.create_business("bread")) and 201)
    # and after a restart too
    async with live_instance(url, tmp_path) as live:
        statuses.append((await live.create_business("cakes")) and 201)
        state = await live.store.fetch_val("SELECT state FROM inbox_items WHERE id = 1")
    survived = statuses == [201, 201, 201] and state == "failed"
    record("faults", "queue row not UTF-8 (SQLite)", "survived" if survived else "failed")
    assert survived, (statuses, state)
