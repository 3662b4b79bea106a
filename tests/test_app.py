"""The app's edge: how errors reach browsers and clients."""

from __future__ import annotations

import pytest


@pytest.mark.anyio
async def test_an_unknown_path_is_a_page_for_browsers_and_a_problem_for_clients(app_client):
    page = await app_client.get("/no/such/page", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    api = await app_client.get("/api/v1/nothing", headers={"Accept": "text/html"})
    assert api.headers["content-type"] == "application/problem+json"
    client = await app_client.get("/no/such/page", headers={"Accept": "application/json"})
    assert client.headers["content-type"] == "application/problem+json"
