"""A full disk or a read-only database: the instance answers 503 with Retry-After (never
500) while it lasts, keeps what it stored before, and works again by itself afterwards."""

from __future__ import annotations

import sqlite3

import pytest

from tests.faults.conftest import fill, free_port, serve, serve_env, small_filesystem
from tests.live import wait_until
from tests.reliability import record

pytestmark = pytest.mark.anyio

#: Most writes tried while the disk is full before one must have been refused: SQLite first
#: fills the space its WAL already holds.
MOST_WRITES = 400


async def _post(served, business, n: int):
    return await served.client.post(
        f"/api/v1/businesses/{business['username']}/posts",
        json={"content": f"Post {n}: " + "fresh bread " * 300},
        headers={"Authorization": f"Bearer {business['owner_token']}"},
    )


async def test_a_full_disk_is_a_503_that_passes_once_space_is_back(tmp_path):
    with small_filesystem("8m") as where:
        env = serve_env(f"sqlite:///{where / 'town.sqlite3'}", tmp_path, free_port())
        async with serve(env, tmp_path / "serve.log") as served:
            # Given a running instance with a business and a post
            created = await served.client.post(
                "/api/v1/businesses", json={"username": "bakery", "display_name": "Bakery"},
                headers=served.admin_headers(),
            )  # fmt: skip
            assert created.status_code == 201, created.text
            business = created.json()
            assert (await _post(served, business, 0)).status_code == 201
            # When its file system fills up and the owner keeps posting
            filler = fill(where)
            statuses: list[int] = []
            refused = None
            for n in range(1, MOST_WRITES):
                response = await _post(served, business, n)
                statuses.append(response.status_code)
                if response.status_code != 201:
                    refused = response
                    break
            # Then the refusal is a 503 with Retry-After, and reads still work
            assert refused is not None, "no write was refused on a full disk"
            assert refused.status_code == 503, refused.text
            assert int(refused.headers["retry-after"]) > 0
            assert refused.headers["content-type"] == "application/problem+json"
            page = await served.client.get(
                "/api/v1/businesses/bakery", headers=served.admin_headers()
            )
            assert page.status_code == 200
            # And once space is back, writes work again without a restart
            filler.unlink()

            async def writes_again() -> bool:
                return (await _post(served, business, 9999)).status_code == 201

            await wait_until(writes_again, timeout=20, interval=0.2)
            accepted = statuses.count(201) + 2  # the first post and the one after recovery
            errors = served.log().count("unhandled")
        with sqlite3.connect(where / "town.sqlite3") as db:
            stored = db.execute("SELECT COUNT(*) FROM posts").fetchone()[0]
    # Then every post answered 201 is there, and nothing else
    outcome = "503" if refused.status_code == 503 else str(refused.status_code)
    record(
        "faults",
        "disk full (SQLite, running server)",
        outcome,
        lost=max(0, accepted - stored),
        duplicates=max(0, stored - accepted),
        server_errors=statuses.count(500) + errors,
    )
    assert 500 not in statuses and errors == 0
    assert stored == accepted
