"""Passkeys in a real browser: Debian's chromium with a virtual authenticator (Chrome
DevTools' WebAuthn domain) adds a passkey on the account page and signs in with it, no
password typed. The instance runs at http://localhost:<port>: WebAuthn accepts localhost
over http, never an IP address. Bad answers are refused without a browser (both backends).
"""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright

from fedi_town.store import people
from tests.live import live_instance
from tests.webapp.browser import CHROMIUM, HAVE_CHROMIUM, join
from tests.webapp.kit import AppUser, owner_of

pytestmark = pytest.mark.anyio


async def test_a_phone_adds_a_passkey_and_signs_in_with_it(database_url, tmp_path):
    assert HAVE_CHROMIUM, "chromium is missing: `make browser` installs it"
    async with live_instance(database_url, tmp_path, public_host="localhost") as live:
        # Given an owner who joined by invite, signed in in the browser
        await live.create_business("bakery", display_name="Corner Bakery")
        made = await live.client.post(
            "/api/v1/admin/invites",
            json={"role": "owner", "business": "bakery"},
            headers=live.admin_headers(),
        )
        link = made.json()["url"]
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM)
            try:
                context = await browser.new_context(viewport={"width": 390, "height": 844})
                page = await context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                cdp = await context.new_cdp_session(page)
                await cdp.send("WebAuthn.enable")
                await cdp.send(
                    "WebAuthn.addVirtualAuthenticator",
                    {
                        "options": {
                            "protocol": "ctap2",
                            "transport": "internal",
                            "hasResidentKey": True,
                            "hasUserVerification": True,
                            "isUserVerified": True,
                            "automaticPresenceSimulation": True,
                        }
                    },
                )
                await join(page, link, "Anna", "anna")
                await page.wait_for_url("**/app/bakery")
                # When she adds a passkey on her account page
                await page.goto(live.base_url + "/app/account")
                await page.get_by_label("Name this passkey").fill("Anna's phone")
                await page.get_by_role("button", name="Add a passkey").click()
                await page.wait_for_url("**/app/account?added=1")
                assert await page.get_by_text("Anna's phone").is_visible()
                # And signs out, then in again with the passkey alone
                await page.get_by_role("button", name="Sign out", exact=True).click()
                await page.wait_for_url("**/login")
                await page.get_by_role("button", name="Sign in with a passkey").click()
                await page.wait_for_url("**/app/bakery")
                # Then she is in, and the passkey's use is recorded
                assert await page.get_by_role("heading", name="Today at Corner Bakery").is_visible()
                person = await people.by_login(live.store, "anna")
                keys = await people.passkeys_of(live.store, person.id)
                assert len(keys) == 1 and keys[0].last_used_at is not None
                assert errors == []
            finally:
                await browser.close()


async def test_passkey_answers_that_do_not_check_out_are_refused(app_client):
    user = await owner_of(app_client, "bakery")
    await user.get("/app/account")
    token = user.csrf()
    # registration: without the header, then with a made-up credential
    options = await user.http.post("/app/account/passkeys/options")
    assert options.status_code == 403
    options = await user.http.post("/app/account/passkeys/options", headers={"X-CSRF-Token": token})
    assert options.status_code == 200
    assert options.json()["rp"]["id"] == "town.example"
    assert options.json()["authenticatorSelection"]["residentKey"] == "required"
    bogus = await user.http.post(
        "/app/account/passkeys",
        json={
            "credential": {
                "id": "AAAA",
                "rawId": "AAAA",
                "type": "public-key",
                "response": {"clientDataJSON": "e30", "attestationObject": "oA"},
            }
        },
        headers={"X-CSRF-Token": token},
    )
    assert bogus.status_code == 400
    assert await people.passkeys_of(app_client.services.store, 1) == []
    # sign-in: a made-up answer, and one that is not JSON
    anonymous = AppUser(app_client)
    await anonymous.get("/login")
    pre = anonymous.csrf()
    started = await anonymous.http.post("/login/passkey/options", headers={"X-CSRF-Token": pre})
    assert started.status_code == 200 and started.json()["rpId"] == "town.example"
    for body in (b"not json", b"[]", b'{"credential": {"id": "AAAA"}}'):
        refused = await anonymous.http.post(
            "/login/passkey",
            content=body,
            headers={"X-CSRF-Token": pre, "Content-Type": "application/json"},
        )
        assert refused.status_code in {400, 403}
        assert refused.headers["content-type"].startswith(("application/problem+json", "text/html"))
        assert "ftown_session" not in " ".join(refused.headers.get_list("set-cookie"))
