"""Your own account page: changing the password signs out other devices (both backends)."""

from __future__ import annotations

import pytest

from tests.webapp.kit import PASSWORD, AppUser, owner_of

pytestmark = pytest.mark.anyio


async def test_changing_the_password_keeps_this_device_and_signs_out_the_others(app_client):
    phone = await owner_of(app_client, "bakery", login="anna")
    laptop = AppUser(app_client)
    await laptop.get("/login")
    await laptop.submit("/login", {"login": "anna", "password": PASSWORD})
    page = await phone.get("/app/account")
    assert "Sign out everywhere" in page.text and "Signed in on 2 devices" in page.text
    new = "rye, spelt and honey"
    done = await phone.submit(
        "/app/account/password", {"current": PASSWORD, "password": new, "password_again": new}
    )
    assert done.status_code == 303
    assert (await phone.get("/app/account")).status_code == 200
    assert (await laptop.get("/app/account")).status_code == 303


async def test_a_wrong_current_password_changes_nothing(app_client):
    phone = await owner_of(app_client, "bakery", login="anna")
    await phone.get("/app/account")
    answer = await phone.submit(
        "/app/account/password",
        {"current": "wrong wrong wrong", "password": "x" * 12, "password_again": "x" * 12},
    )
    assert answer.status_code == 422 and "not your current password" in answer.text
    other = AppUser(app_client)
    await other.get("/login")
    assert (
        await other.submit("/login", {"login": "anna", "password": PASSWORD})
    ).status_code == 303
