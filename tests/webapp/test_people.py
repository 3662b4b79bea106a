"""Who signs in for a business: an owner invites, withdraws, renews passwords and removes
people through the app; staff get in but not at the people (the whole app, both backends)."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest

from tests.webapp.kit import AppUser, accept, admin_user, owner_of

pytestmark = pytest.mark.anyio

_LINK = re.compile(r'id="new-link-url" type="text" readonly value="([^"]+)"')


def shown_link(response: httpx.Response) -> str:
    """The link a page shows once, in its read-only field."""
    found = _LINK.search(response.text)
    assert found, "no new link on this page"
    return unescape(found.group(1))


def assert_not_in_headers(response: httpx.Response, link: str) -> None:
    token = httpx.URL(link).path.rsplit("/", 1)[-1]
    for name in ("set-cookie", "location"):
        for value in response.headers.get_list(name):
            assert token not in value, f"the link leaked into {name}"


async def invite(owner: AppUser, role: str = "staff") -> str:
    await owner.get("/app/bakery/people")
    answer = await owner.submit("/app/bakery/people/invite", {"role": role})
    assert answer.status_code == 201, answer.text
    assert_not_in_headers(answer, shown_link(answer))
    return shown_link(answer)


def person_id(page: httpx.Response, name: str) -> str:
    found = re.search(
        rf'/people/(\d+)/reset">\s*<input[^>]*>\s*<button[^>]*>New password link for {name}<',
        page.text,
    )
    assert found, f"no {name} on the page"
    return found.group(1)


async def test_an_owner_invites_staff_who_get_in_but_cannot_manage_people(app_client):
    # Given an owner on the people page
    owner = await owner_of(app_client, "bakery", login="anna")
    # When she makes a staff invite
    link = await invite(owner, "staff")
    page = owner.last
    assert page is not None
    # Then the link is on the answer once, with what to do with it, and never cached
    assert "Send this link to them; it works once, for 7 days." in page.text
    assert page.headers["cache-control"] == "no-store"
    assert link.startswith("https://town.example/invite/")
    listed = await owner.get("/app/bakery/people")
    assert link not in listed.text and "Staff invite" in listed.text
    # And the person who opens it joins as staff and reaches the business
    bea = AppUser(app_client)
    joined = await accept(bea, link, "bea")
    assert joined.status_code == 303
    assert (await bea.get("/app/bakery")).status_code == 200
    # But staff see no people to manage, only whom to ask
    theirs = await bea.get("/app/bakery/people")
    assert theirs.status_code == 200
    assert "Ask an owner to invite or remove people" in theirs.text
    assert "Make an invite link" not in theirs.text and "anna" not in theirs.text
    refused = await bea.submit("/app/bakery/people/invite", {"role": "owner"})
    assert refused.status_code == 403
    assert "only an owner" in refused.text.lower()


async def test_the_owner_sees_each_person_with_sign_in_name_role_and_passkeys(app_client):
    owner = await owner_of(app_client, "bakery", login="anna")
    await accept(AppUser(app_client), await invite(owner, "owner"), "carl")
    page = await owner.get("/app/bakery/people")
    assert "Signs in as <code>anna</code> · Owner · 0 passkeys" in page.text
    assert "Signs in as <code>carl</code> · Owner" in page.text
    assert 'Anna</strong> <span class="meta">(you)' in page.text
    assert "No open invites." in page.text


async def test_a_withdrawn_invite_link_stops_working(app_client):
    # Given an open owner invite
    owner = await owner_of(app_client, "bakery")
    link = await invite(owner, "owner")
    page = await owner.get("/app/bakery/people")
    [invite_id] = re.findall(r"/people/invites/(\d+)/withdraw", page.text)
    # When the owner withdraws it
    done = await owner.submit(f"/app/bakery/people/invites/{invite_id}/withdraw", follow=True)
    assert "Invite withdrawn: the link no longer works." in done.text
    assert "No open invites." in done.text
    # Then the link says it has ended
    stranger = AppUser(app_client)
    opened = await stranger.get(httpx.URL(link).path)
    assert opened.status_code == 303 and opened.headers["location"] == "/invite-ended"
    # And withdrawing twice just says so
    again = await owner.submit(f"/app/bakery/people/invites/{invite_id}/withdraw", follow=True)
    assert "That invite had already ended." in again.text


async def test_a_new_password_link_lets_a_person_choose_a_new_password(app_client):
    # Given a member of staff who forgot her password
    owner = await owner_of(app_client, "bakery", login="anna")
    bea = AppUser(app_client)
    await accept(bea, await invite(owner), "bea")
    page = await owner.get("/app/bakery/people")
    bea_id = person_id(page, "Bea")
    # When the owner makes her a new password link
    answer = await owner.submit(f"/app/bakery/people/{bea_id}/reset")
    # Then it is shown once, for her, for a day
    assert answer.status_code == 201
    assert "New password link for Bea" in answer.text
    assert "Send this link to Bea; it works once, for 24 hours." in answer.text
    link = shown_link(answer)
    assert_not_in_headers(answer, link)
    listed = await owner.get("/app/bakery/people")
    assert "Withdraw the new password link for Bea" in listed.text  # open, without the link
    assert link not in listed.text
    # And with it she sets a new password; her old session ends
    phone = AppUser(app_client)
    renewed = await accept(phone, link, "ignored")
    assert renewed.status_code == 303
    assert (await phone.get("/app/bakery")).status_code == 200
    assert (await bea.get("/app/bakery")).status_code == 303


async def test_removing_the_last_owner_is_refused_with_the_reason(app_client):
    # Given a business with one owner
    owner = await owner_of(app_client, "bakery", login="anna")
    page = await owner.get("/app/bakery/people")
    anna_id = person_id(page, "Anna")
    # When she asks to remove herself and confirms
    confirm = await owner.get(f"/app/bakery/people/{anna_id}/remove")
    assert confirm.status_code == 200
    assert "Remove Anna?" in confirm.text and "This is you" in confirm.text
    answer = await owner.submit(f"/app/bakery/people/{anna_id}/remove")
    # Then the API's sentence says why not, and she is still in
    assert answer.status_code == 409
    assert "This is the last owner: invite another owner first" in answer.text
    assert (await owner.get("/app/bakery")).status_code == 200


async def test_a_removed_person_is_signed_out_and_cannot_come_back(app_client):
    # Given an owner and a member of staff, signed in
    owner = await owner_of(app_client, "bakery", login="anna")
    bea = AppUser(app_client)
    await accept(bea, await invite(owner), "bea")
    bea_id = person_id(await owner.get("/app/bakery/people"), "Bea")
    # When the owner confirms removing her
    await owner.get(f"/app/bakery/people/{bea_id}/remove")
    done = await owner.submit(f"/app/bakery/people/{bea_id}/remove", follow=True)
    # Then the page says so and she is gone from the list, and signed out
    assert "Bea was removed and signed out everywhere." in done.text
    assert "bea" not in done.text.split('<h2 id="invites-heading"')[0].split("People</h2>")[1]
    assert (await bea.get("/app/bakery")).status_code == 303
    # And asking to remove someone who is not there is a plain 404
    gone = await owner.get(f"/app/bakery/people/{bea_id}/remove")
    assert gone.status_code == 404 and "There is no such person here." in gone.text


async def test_an_invite_without_a_role_says_choose_one(app_client):
    owner = await owner_of(app_client, "bakery")
    await owner.get("/app/bakery/people")
    answer = await owner.submit("/app/bakery/people/invite", {"role": "boss"})
    assert answer.status_code == 422
    assert '<p class="field-error" id="role-error">Choose owner or staff.</p>' in answer.text
    assert "new-link-url" not in answer.text


async def test_the_admin_manages_the_people_of_any_business(app_client):
    await owner_of(app_client, "bakery", login="anna")
    root = await admin_user(app_client)
    page = await root.get("/app/bakery/people")
    assert page.status_code == 200 and "Signs in as <code>anna</code>" in page.text
    answer = await root.submit("/app/bakery/people/invite", {"role": "owner"})
    assert answer.status_code == 201 and "Invite link for an owner" in answer.text


async def test_another_businesss_people_page_is_a_404(app_client):
    await owner_of(app_client, "cafe", login="carl", display_name="Cafe")
    owner = await owner_of(app_client, "bakery", login="anna")
    assert (await owner.get("/app/cafe/people")).status_code == 404
