"""The owner API says which mentions of a post stayed plain text and why, against real servers on
loopback: the post is still written (as on Mastodon) with the text as typed, and the answer to
the write (POST, PATCH) lists each unresolved mention with its reason."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from fedi_town.schemas import openapi_document
from tests.conftest import admin_headers
from tests.live import bind_loopback
from tests.outbound.conftest import owner, table_count, write_post

pytestmark = pytest.mark.anyio


def closed_port_host() -> str:
    """``127.0.0.1:<port>`` where nobody listens."""
    sock = bind_loopback()
    host = f"127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    return host


def post_schema(method: str, status: str) -> dict:
    path = openapi_document()["paths"]["/api/v1/businesses/{username}/posts"]
    return path[method]["responses"][status]["content"]["application/json"]["schema"]


async def test_a_post_with_unresolvable_mentions_is_written_and_the_answer_says_why(live, peer):
    # Given a business, a blocked server, a port nobody listens on, and a server with alice
    business = await live.create_business("bakery")
    blocked = await live.client.post(
        "/api/v1/admin/domain_blocks", json={"domain": "blocked.example"}, headers=admin_headers()
    )
    assert blocked.status_code == 201
    closed = closed_port_host()
    content = (
        f"Hi {peer.handle('alice')}, @nobody@{peer.host}, @ann@{closed} and @eve@blocked.example"
    )
    # When the owner writes a post mentioning all four
    response = await write_post(live.client, business, content=content)
    # Then it is written, alice mentioned and the others left as text, each with its reason
    assert response.status_code == 201, response.text
    post = response.json()
    assert post["mentions"] == [{"href": peer.actor("alice").uri, "name": peer.handle("alice")}]
    assert post["unresolved_mentions"] == [
        {
            "handle": f"@nobody@{peer.host}",
            "code": "not_found",
            "reason": f"no account by that name on {peer.host}",
        },
        {"handle": f"@ann@{closed}", "code": "unreachable", "reason": f"{closed} did not answer"},
        {
            "handle": "@eve@blocked.example",
            "code": "blocked",
            "reason": "blocked.example is blocked on this instance",
        },
    ]
    # And the post is stored with the text as typed, the unresolved ones plain in its HTML
    again = (await live.client.get(response.headers["location"], headers=owner(business))).json()
    assert again["content"] == content
    assert f"@nobody@{peer.host}, @ann@{closed} and @eve@blocked.example" in again["content_html"]
    assert "unresolved_mentions" not in again
    assert await table_count(live.store, "posts") == 1
    # And the answer is what the OpenAPI document promises
    assert list(Draft202012Validator(post_schema("post", "201")).iter_errors(post)) == []


async def test_a_post_whose_mentions_are_all_found_has_no_unresolved_mentions(live, peer):
    business = await live.create_business("bakery")
    response = await write_post(live.client, business, content=f"Hi {peer.handle('bob')}")
    assert response.status_code == 201, response.text
    assert response.json()["unresolved_mentions"] == []


async def test_an_edit_says_which_mentions_of_the_new_text_stayed_text(live, peer):
    # Given a post
    business = await live.create_business("bakery")
    post = (await write_post(live.client, business, content="Open at 8")).json()
    url = f"/api/v1/businesses/bakery/posts/{post['id']}"
    # When its text is changed to mention someone unknown there
    edited = await live.client.patch(
        url, json={"content": f"Open at 9, @nobody@{peer.host}"}, headers=owner(business)
    )
    # Then the edit is made, and the answer says that mention stayed text and why
    assert edited.status_code == 200, edited.text
    assert edited.json()["content"] == f"Open at 9, @nobody@{peer.host}"
    assert edited.json()["unresolved_mentions"] == [
        {
            "handle": f"@nobody@{peer.host}",
            "code": "not_found",
            "reason": f"no account by that name on {peer.host}",
        }
    ]
    # And an edit that leaves the text alone looks nothing up and lists nothing
    peer.requests.clear()
    warned = await live.client.patch(url, json={"spoiler_text": "hours"}, headers=owner(business))
    assert warned.status_code == 200 and warned.json()["unresolved_mentions"] == []
    assert peer.requests == []


async def test_a_direct_post_to_nobody_found_is_refused_naming_why(app_client, bakery):
    # When the owner writes a direct post whose only mention is unknown here
    response = await write_post(app_client, bakery, content="Hi @nobody", visibility="direct")
    # Then it is refused, the reason for the mention in the problem
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["pointer"] == "/content"
    assert "@nobody@town.example: no account by that name on town.example" in problem["detail"]
    assert await table_count(app_client.services.store, "posts") == 0
