"""Browser apps (Elk, Phanpy) may call the Mastodon client API from their own sites; the
admin API and the owner app stay without CORS."""

from __future__ import annotations

import pytest

from fedi_town.mastodon.cors import is_mastodon_path

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("path", "ours"),
    [
        ("/api/v1/statuses", True),
        ("/api/v2/instance", True),
        ("/api/v1/timelines/home", True),
        ("/oauth/token", True),
        ("/.well-known/oauth-authorization-server", True),
        ("/oauth/authorize", False),
        ("/api/v1/businesses/bakery/posts", False),
        ("/api/v1/admin/invites", False),
        ("/api/v1/openapi.json", False),
        ("/app/bakery", False),
    ],
)
def test_which_paths_are_mastodons(path, ours):
    assert is_mastodon_path(path) is ours


async def test_a_preflight_from_another_site_is_allowed(app_client):
    response = await app_client.options(
        "/api/v1/statuses",
        headers={
            "Origin": "https://elk.zone",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-headers"] == "authorization, content-type"
    assert "access-control-allow-credentials" not in response.headers


async def test_answers_carry_cors_and_expose_link_but_the_admin_api_does_not(app_client):
    instance = await app_client.get("/api/v2/instance", headers={"Origin": "https://elk.zone"})
    assert instance.headers["access-control-allow-origin"] == "*"
    assert "Link" in instance.headers["access-control-expose-headers"]
    admin = await app_client.get("/api/v1/businesses", headers={"Origin": "https://elk.zone"})
    assert "access-control-allow-origin" not in admin.headers


async def test_an_endpoint_not_served_yet_is_a_mastodon_404(app_client):
    response = await app_client.get("/api/v2/suggestions")
    assert response.status_code == 404
    assert response.json() == {"error": "Record not found"}
    assert response.headers["access-control-allow-origin"] == "*"
