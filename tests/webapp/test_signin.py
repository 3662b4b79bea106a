"""Signing in to the owner's web app: invites, passwords, sessions, CSRF, rate limits
(the whole app in process, both backends)."""

from __future__ import annotations

import httpx
import pytest

from fedi_town.store import people
from tests.conftest import admin_headers
from tests.webapp.kit import PASSWORD, AppUser, accept, admin_user, invite_link, owner_of

pytestmark = pytest.mark.anyio


def session_cookie(response: httpx.Response) -> str:
    found = [c for c in response.headers.get_list("set-cookie") if "ftown_session=" in c]
    assert found, "no session cookie was set"
    return found[-1]


async def test_an_invite_signs_the_owner_in_with_a_secure_httponly_samesite_cookie(app_client):
    # Given a business and an invite for its owner
    user = await owner_of(app_client, "bakery")  # accepts the invite
    # Then the cookie set at sign-in is __Host-, Secure, HttpOnly and SameSite=Lax
    cookie = session_cookie(user.last).lower()
    assert cookie.startswith("__host-ftown_session=")
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "domain=" not in cookie and "path=/" in cookie
    # And /app leads to the business's page, which greets by name
    home = await user.get("/app")
    assert home.status_code == 303 and home.headers["location"] == "/app/bakery"
    page = await user.get("/app/bakery")
    assert page.status_code == 200
    assert "Today at Corner Bakery" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_the_password_is_stored_as_an_argon2id_hash_never_in_the_clear(app_client):
    await owner_of(app_client, "bakery", login="anna")
    person = await people.by_login(app_client.services.store, "ANNA")
    assert person is not None and person.password_hash is not None
    assert person.password_hash.startswith("$argon2id$")
    assert PASSWORD not in person.password_hash


async def test_a_used_invite_cannot_be_used_again(app_client):
    # Given an invite that was used
    await owner_of(app_client, "bakery", login="anna")
    link = await invite_link(app_client, business="bakery")
    first = AppUser(app_client)
    assert (await accept(first, link, "bert")).status_code == 303
    # When someone replays the link
    second = AppUser(app_client)
    opened = await second.get(httpx.URL(link).path)
    # Then it says the link has ended, and posting the form anyway creates nobody
    assert opened.status_code == 303 and opened.headers["location"] == "/invite-ended"
    ended = await second.get("/invite-ended")
    assert ended.status_code == 410 and "has ended" in ended.text
    await second.get("/login")  # a page with an anonymous form token
    replay = await second.submit(
        httpx.URL(link).path,
        {"display_name": "Eve", "login": "eve", "password": PASSWORD, "password_again": PASSWORD},
    )
    assert replay.status_code == 303 and replay.headers["location"] == "/invite-ended"
    assert await people.by_login(app_client.services.store, "eve") is None


async def test_an_expired_invite_is_refused(app_client):
    await owner_of(app_client, "bakery")
    link = await invite_link(app_client, business="bakery")
    store = app_client.services.store
    await store.execute("UPDATE invites SET expires_at = 1 WHERE used_at IS NULL")
    opened = await AppUser(app_client).get(httpx.URL(link).path)
    assert opened.status_code == 303 and opened.headers["location"] == "/invite-ended"


async def test_an_unknown_invite_is_a_404_page(app_client):
    page = await AppUser(app_client).get("/invite/not-a-real-token")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "not known here" in page.text


async def test_the_invite_form_says_what_is_wrong_next_to_each_field(app_client):
    await owner_of(app_client, "bakery", login="anna")
    user = AppUser(app_client)
    link = httpx.URL(await invite_link(app_client, business="bakery")).path
    await user.get(link)
    answer = await user.submit(
        link,
        {"display_name": "", "login": "anna", "password": "short", "password_again": "x"},
    )
    assert answer.status_code == 422
    assert 'aria-invalid="true"' in answer.text
    assert "Write the name your colleagues know you by" in answer.text
    assert "at least 10 characters" in answer.text
    # a taken sign-in name is only checked once the password is fine
    answer = await user.submit(
        link,
        {"display_name": "B", "login": "anna", "password": PASSWORD, "password_again": PASSWORD},
    )
    assert answer.status_code == 422 and "That sign-in name is taken" in answer.text


async def test_signing_in_with_a_password_and_out_again(app_client):
    await owner_of(app_client, "bakery", login="anna")
    user = AppUser(app_client)
    login = await user.get("/login?next=/app/bakery/posts")
    assert login.status_code == 200
    answer = await user.submit(
        "/login", {"login": "Anna", "password": PASSWORD, "next": "/app/bakery/posts"}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/app/bakery/posts"
    page = await user.get("/app/bakery")
    assert page.status_code == 200
    # When they sign out
    out = await user.submit("/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login"
    # Then the app asks them to sign in again
    again = await user.get("/app/bakery")
    assert again.status_code == 303 and again.headers["location"].startswith("/login?next=")


async def test_next_never_leads_to_another_site(app_client):
    await owner_of(app_client, "bakery", login="anna")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        user = AppUser(app_client)
        await user.get("/login")
        answer = await user.submit(
            "/login", {"login": "anna", "password": PASSWORD, "next": target}
        )
        assert answer.headers["location"] == "/app"


async def test_a_wrong_password_says_so_without_saying_which_part_was_wrong(app_client):
    await owner_of(app_client, "bakery", login="anna")
    user = AppUser(app_client)
    await user.get("/login")
    wrong = await user.submit("/login", {"login": "anna", "password": "not the password"})
    nobody = await user.submit("/login", {"login": "nobody", "password": "not the password"})
    assert wrong.status_code == nobody.status_code == 401
    assert "do not match" in wrong.text and "do not match" in nobody.text


async def test_brute_force_on_one_sign_in_name_is_slowed_with_a_clear_message(app_client):
    # Given an owner
    await owner_of(app_client, "bakery", login="anna")
    user = AppUser(app_client)
    await user.get("/login")
    # When five wrong passwords come for their name
    for _ in range(5):
        answer = await user.submit("/login", {"login": "anna", "password": "guess guess guess"})
        assert answer.status_code == 401
    # Then even the right password waits, with a sentence saying how long
    blocked = await user.submit("/login", {"login": "anna", "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) == 900
    assert "Too many wrong passwords. Wait 15 minutes" in blocked.text
    assert "ftown_session=" not in " ".join(blocked.headers.get_list("set-cookie"))


async def test_many_wrong_passwords_from_one_address_are_slowed_whatever_the_name(app_client):
    await owner_of(app_client, "bakery", login="anna")
    user = AppUser(app_client)
    await user.get("/login")
    for i in range(20):
        await user.submit("/login", {"login": f"guess{i}", "password": "guess guess guess"})
    blocked = await user.submit("/login", {"login": "anna", "password": PASSWORD})
    assert blocked.status_code == 429


async def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(app_client):
    user = await owner_of(app_client, "bakery")
    await user.get("/app/bakery")
    for token in ("", "0" * 64):
        answer = await user.submit("/app/bakery/notice", {"action": "closed"}, csrf=token)
        assert answer.status_code == 403
        assert "did not come from this app" in answer.text
    view = await app_client.get("/api/v1/businesses/bakery", headers=admin_headers())
    assert view.json()["notice"] is None


async def test_a_form_posted_from_another_site_is_refused_even_with_a_token(app_client):
    user = await owner_of(app_client, "bakery")
    await user.get("/app/bakery")
    answer = await user.http.post(
        "/app/bakery/notice",
        data={"csrf": user.csrf(), "action": "closed"},
        headers={"Origin": "https://evil.example"},
    )
    assert answer.status_code == 403
    assert "another site" in answer.text


async def test_the_sign_in_form_needs_its_own_token_too(app_client):
    await owner_of(app_client, "bakery", login="anna")
    user = AppUser(app_client)
    answer = await user.http.post("/login", data={"login": "anna", "password": PASSWORD})
    assert answer.status_code == 403


async def test_a_planted_session_cookie_is_never_signed_in_session_fixation(app_client):
    # Given an attacker who planted a session id in the victim's browser
    await owner_of(app_client, "bakery", login="anna")
    victim = AppUser(app_client)
    planted = "planted-session-id-chosen-by-the-attacker"
    victim.http.cookies.set("__Host-ftown_session", planted, domain="town.example")
    # When the victim signs in
    await victim.get("/login")
    answer = await victim.submit("/login", {"login": "anna", "password": PASSWORD})
    assert answer.status_code == 303
    # Then the browser got a new session id, and the planted one signs nobody in
    new_cookie = session_cookie(answer)
    assert planted not in new_cookie
    attacker = AppUser(app_client)
    attacker.http.cookies.set("__Host-ftown_session", planted, domain="town.example")
    page = await attacker.get("/app/bakery")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


async def test_signing_in_again_rotates_the_session_id(app_client):
    user = await owner_of(app_client, "bakery", login="anna")
    before = user.http.cookies.get("__Host-ftown_session")
    await user.get("/login?next=/app")  # signed in: sent on
    stale = AppUser(app_client)
    stale.http.cookies.set("__Host-ftown_session", before, domain="town.example")
    await stale.get("/login")
    other = AppUser(app_client)
    await other.get("/login")
    answer = await other.submit("/login", {"login": "anna", "password": PASSWORD})
    assert session_cookie(answer).split(";")[0].split("=", 1)[1] != before


async def test_sign_out_everywhere_ends_every_session_of_the_person(app_client):
    phone = await owner_of(app_client, "bakery", login="anna")
    laptop = AppUser(app_client)
    await laptop.get("/login")
    await laptop.submit("/login", {"login": "anna", "password": PASSWORD})
    assert (await laptop.get("/app/bakery")).status_code == 200
    await phone.get("/app/account")
    answer = await phone.submit("/app/account/sign-out-everywhere")
    assert answer.status_code == 303
    for browser in (phone, laptop):
        page = await browser.get("/app/bakery")
        assert page.status_code == 303 and page.headers["location"].startswith("/login")


async def test_an_owner_reaches_neither_another_business_nor_the_admin_pages(app_client):
    anna = await owner_of(app_client, "bakery", login="anna")
    await owner_of(app_client, "cafe", login="carl")
    for path in ("/app/cafe", "/app/cafe/compose", "/app/admin", "/app/admin/reports"):
        page = await anna.get(path)
        assert page.status_code == 404, path
    await anna.get("/app/bakery")
    answer = await anna.submit("/app/cafe/notice", {"action": "closed"})
    assert answer.status_code == 404
    view = await app_client.get("/api/v1/businesses/cafe", headers=admin_headers())
    assert view.json()["notice"] is None


async def test_the_admin_reaches_every_business(app_client):
    await owner_of(app_client, "bakery", login="anna")
    root = await admin_user(app_client)
    home = await root.get("/app")
    assert home.headers["location"] == "/app/admin"
    assert (await root.get("/app/bakery")).status_code == 200


async def test_a_forgotten_password_is_a_new_invite_that_signs_out_the_old_devices(app_client):
    # Given an owner signed in on a phone
    phone = await owner_of(app_client, "bakery", login="anna")
    person = await people.by_login(app_client.services.store, "anna")
    # When an owner asks for a new-password link and Anna uses it
    reset = await app_client.post(
        f"/api/v1/businesses/bakery/people/{person.id}/reset", headers=admin_headers()
    )
    assert reset.status_code == 201
    browser = AppUser(app_client)
    path = httpx.URL(reset.json()["url"]).path
    form = await browser.get(path)
    assert "Choose a new password" in form.text and "anna" in form.text
    new = "a brand new password"
    done = await browser.submit(path, {"password": new, "password_again": new})
    assert done.status_code == 303
    # Then the phone is signed out and the new password works
    assert (await phone.get("/app/bakery")).status_code == 303
    fresh = AppUser(app_client)
    await fresh.get("/login")
    assert (await fresh.submit("/login", {"login": "anna", "password": new})).status_code == 303
