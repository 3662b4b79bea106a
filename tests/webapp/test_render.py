"""Answering app pages: redirects stay on this site, a flash shows once, big forms are refused."""

from __future__ import annotations

import pytest

from tests.webapp.kit import owner_of

pytestmark = pytest.mark.anyio


async def test_a_flash_is_shown_on_the_next_page_only(app_client):
    user = await owner_of(app_client, "bakery")
    await user.get("/app/bakery")
    shown = await user.submit("/app/bakery/notice", {"action": "closed"}, follow=True)
    assert 'class="flash"' in shown.text
    again = await user.get("/app/bakery")
    assert 'class="flash"' not in again.text


async def test_a_form_over_the_size_limit_is_refused_with_a_sentence(app_client):
    user = await owner_of(app_client, "bakery")
    await user.get("/app/bakery")
    answer = await user.submit("/app/bakery/notice", {"action": "custom", "text": "x" * 2_000_000})
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("text/html")


async def test_a_malformed_multipart_form_is_a_clear_4xx_not_a_crash(app_client):
    user = await owner_of(app_client, "bakery")
    await user.get("/app/bakery")
    answer = await user.http.post(
        "/app/bakery/notice",
        content=b"--nope\r\nnot a part",
        headers={"Content-Type": "multipart/form-data; boundary=zzz"},
    )
    assert 400 <= answer.status_code < 500


async def test_app_pages_are_never_cached_and_allow_only_our_own_scripts(app_client):
    user = await owner_of(app_client, "bakery")
    page = await user.get("/app/bakery")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["cache-control"] == "no-store"
    login = await user.get("/login")  # signed in: on to the app
    assert login.status_code == 303
