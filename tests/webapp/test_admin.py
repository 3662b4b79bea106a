"""The instance admin's pages: businesses and their owners' first links, the admins, reports
and domain blocks; nobody else finds them (the whole app, both backends)."""

from __future__ import annotations

import re

import pytest

from fedi_town.store import businesses
from tests.conftest import admin_headers, create_business
from tests.inbound import payloads as p
from tests.inbound.helpers import add_post, add_remote_actor, handle
from tests.webapp.kit import AppUser, accept, admin_user, owner_of
from tests.webapp.test_people import assert_not_in_headers, shown_link

pytestmark = pytest.mark.anyio

ADMIN_PAGES = ("/app/admin", "/app/admin/reports", "/app/admin/domain-blocks")


async def test_the_admin_creates_a_business_and_its_owner_joins_by_the_link(app_client):
    # Given the admin on the overview
    root = await admin_user(app_client)
    page = await root.get("/app/admin")
    assert page.status_code == 200 and "No business yet" in page.text
    # When she creates a business with an owner invite
    answer = await root.submit(
        "/app/admin/businesses",
        {"username": "bakery", "display_name": " Corner   Bakery ", "owner_invite": "1"},
    )
    # Then the answer shows the business and the owner's link, once, in no header
    assert answer.status_code == 201
    assert "Corner Bakery is created: <code>@bakery@town.example</code>" in answer.text
    assert "Invite link for the owner of Corner Bakery" in answer.text
    assert "Send this link to them; it works once, for 7 days." in answer.text
    assert answer.headers["cache-control"] == "no-store"
    link = shown_link(answer)
    assert_not_in_headers(answer, link)
    again = await root.get("/app/admin")
    assert link not in again.text and "ftown_" not in again.text
    assert "Open Corner Bakery in the app" in again.text
    assert 'href="https://town.example/@bakery"' in again.text
    # And a new browser with the link becomes the owner
    anna = AppUser(app_client)
    assert (await accept(anna, link, "anna")).status_code == 303
    today = await anna.get("/app/bakery")
    assert today.status_code == 200 and "Today at Corner Bakery" in today.text


async def test_a_business_made_without_an_invite_shows_its_api_token_once(app_client):
    root = await admin_user(app_client)
    await root.get("/app/admin")
    answer = await root.submit(
        "/app/admin/businesses", {"username": "cafe", "display_name": "Cafe"}
    )
    assert answer.status_code == 201 and "new-link-url" not in answer.text
    token = re.search(r'id="owner-token" type="text" readonly value="(ftown_[^"]+)"', answer.text)
    assert token, "no owner token shown"
    assert_not_in_headers(answer, "/" + token.group(1))
    view = await app_client.get(
        "/api/v1/businesses/cafe", headers={"Authorization": f"Bearer {token.group(1)}"}
    )
    assert view.status_code == 200


async def test_a_bad_business_name_is_explained_next_to_its_field(app_client):
    # Given the admin and a business called bakery
    await create_business(app_client, "bakery")
    root = await admin_user(app_client)
    await root.get("/app/admin")
    # When she gives a username with a space and no name
    bad = await root.submit("/app/admin/businesses", {"username": "my shop", "display_name": ""})
    # Then each field says what is wrong, and what she typed stays
    assert bad.status_code == 422
    assert 'id="display_name-error">Write the business' in bad.text
    assert 'value="my shop"' in bad.text
    # When the name is taken, or too long for the schema
    await root.get("/app/admin")
    taken = await root.submit("/app/admin/businesses", {"username": "BAKERY", "display_name": "B"})
    assert taken.status_code == 409
    assert 'id="username-error">That name is taken: choose another.' in taken.text
    await root.get("/app/admin")
    long = await root.submit("/app/admin/businesses", {"username": "x" * 31, "display_name": "L"})
    assert long.status_code == 422
    assert 'id="username-error">Use 1 to 30 letters' in long.text
    spaced = await root.submit("/app/admin/businesses", {"username": "a b", "display_name": "L"})
    assert 'id="username-error">Username may contain only ASCII letters' in spaced.text
    assert await businesses.by_username(app_client.services.store, "a b") is None


async def test_the_admin_invites_an_owner_of_a_business_and_another_admin(app_client):
    await create_business(app_client, "bakery")
    root = await admin_user(app_client, "root")
    page = await root.get("/app/admin")
    assert "Signs in as <code>root</code>" in page.text
    # When she makes an owner invite for the bakery
    owner = await root.submit("/app/admin/invites", {"role": "owner", "business": "bakery"})
    assert owner.status_code == 201 and "Invite link for an owner of bakery" in owner.text
    assert_not_in_headers(owner, shown_link(owner))
    # And one for another admin, who then joins
    admin = await root.submit("/app/admin/invites", {"role": "admin"})
    assert admin.status_code == 201 and "Invite link for another admin" in admin.text
    listed = await root.get("/app/admin")
    assert "Admin invite" in listed.text and shown_link(admin) not in listed.text
    second = AppUser(app_client)
    assert (await accept(second, shown_link(admin), "zoe")).status_code == 303
    assert (await second.get("/app/admin/reports")).status_code == 200
    # And an owner invite for a business that is not there says so
    await root.get("/app/admin")
    missing = await root.submit("/app/admin/invites", {"role": "owner", "business": "nope"})
    assert missing.status_code == 422 and "No such business" in missing.text


async def test_domain_blocks_are_added_refused_when_malformed_and_removed(app_client):
    root = await admin_user(app_client)
    page = await root.get("/app/admin/domain-blocks")
    assert "No domain is blocked." in page.text
    # When she types a web address instead of a domain
    bad = await root.submit("/app/admin/domain-blocks", {"domain": "https://spam.example/@x"})
    # Then the sentence sits next to the field, with what she typed
    assert bad.status_code == 422
    assert 'id="domain-error">Write just the domain, like spam.example' in bad.text
    assert 'value="https://spam.example/@x"' in bad.text
    # When she blocks a domain, and again
    done = await root.submit("/app/admin/domain-blocks", {"domain": "Spam.Example"}, follow=True)
    assert "spam.example is blocked: follows from it ended" in done.text
    again = await root.submit("/app/admin/domain-blocks", {"domain": "spam.example"}, follow=True)
    assert "spam.example was blocked already." in again.text
    listed = (await app_client.get("/api/v1/admin/domain_blocks", headers=admin_headers())).json()
    [block] = listed["items"]
    assert block["domain"] == "spam.example"
    # Then unblocking it removes it
    gone = await root.submit(
        f"/app/admin/domain-blocks/{block['id']}/remove", {"domain": "spam.example"}, follow=True
    )
    assert "spam.example is unblocked" in gone.text and "No domain is blocked." in gone.text
    twice = await root.submit(f"/app/admin/domain-blocks/{block['id']}/remove", follow=True)
    assert "That block was gone already." in twice.text


async def test_domain_blocks_page_by_twenty(app_client):
    for i in range(21):
        await app_client.post(
            "/api/v1/admin/domain_blocks", json={"domain": f"s{i}.example"}, headers=admin_headers()
        )
    root = await admin_user(app_client)
    first = await root.get("/app/admin/domain-blocks")
    assert first.text.count("Unblock s") == 20
    older = re.search(r'href="(/app/admin/domain-blocks\?max_id=\d+)"', first.text)
    assert older, "no link to more blocks"
    second = await root.get(older.group(1))
    assert second.text.count("Unblock s") == 1 and "Unblock s0.example" in second.text


async def test_the_reports_page_shows_a_report_and_whom_it_is_about(app_client):
    # Given a report from another server about the bakery's post
    await create_business(app_client, "bakery")
    services = app_client.services
    bakery = await businesses.by_username(services.store, "bakery")
    _, post_uri = await add_post(services, bakery)
    instance = "https://mastodon.example/actor"
    await add_remote_actor(services.store, instance)
    await handle(services, p.mastodon_flag(instance, services.urls.actor("bakery"), post_uri))
    # When the admin opens the reports
    root = await admin_user(app_client)
    page = await root.get("/app/admin/reports")
    # Then it says who sent it, about whom, the comment and what was reported
    assert page.status_code == 200
    assert "From mastodon.example" in page.text
    assert "Spam: same advert posted 40 times" in page.text
    assert '<a href="/app/bakery">Corner Bakery</a>' in page.text
    assert f'<a href="{post_uri}" rel="noreferrer nofollow">' in page.text


async def test_an_owner_finds_no_admin_page(app_client):
    owner = await owner_of(app_client, "bakery")
    for path in ADMIN_PAGES:
        page = await owner.get(path)
        assert page.status_code == 404, path
    await owner.get("/app/bakery")
    token = owner.csrf()
    made = await owner.submit(
        "/app/admin/businesses", {"username": "x", "display_name": "X"}, csrf=token
    )
    assert made.status_code == 404
    invited = await owner.submit("/app/admin/invites", {"role": "admin"}, csrf=token)
    assert invited.status_code == 404
    assert await businesses.by_username(app_client.services.store, "x") is None


async def test_admin_pages_send_a_stranger_to_sign_in(app_client):
    for path in ADMIN_PAGES:
        page = await AppUser(app_client).get(path)
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login?next=/app/admin")
