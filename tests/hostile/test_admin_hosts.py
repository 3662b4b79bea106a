"""Host names no resolver can take, typed by an owner: mentions, block targets, replies.

A DNS label is at most 63 characters; Python's IDNA codec raises ``UnicodeError`` for a
longer one before any lookup, which used to escape the resolver as a 500. Now resolving
such a name fails like any unknown name: the mention stays text, the block or the reply
target is a 422 (or the URI is kept as given). No case here reaches the network.
"""

from __future__ import annotations

import pytest

from fedi_town.remote.ssrf import system_resolver
from tests.conftest import create_business
from tests.reliability import record

pytestmark = pytest.mark.anyio

LONG = "a" * 300 + ".example"
CASES: dict[str, tuple[str, dict[str, object]]] = {
    "mention of a host with a 300-character label": ("posts", {"content": f"Hi @alice@{LONG}"}),
    "reply to a URL with a 300-character label": (
        "posts",
        {"content": "Hi", "in_reply_to": f"https://{LONG}/notes/1"},
    ),
    "block of a handle with a 300-character label": ("blocks", {"actor": f"@alice@{LONG}"}),
    "block of an actor URI with a 300-character label": (
        "blocks",
        {"actor": f"https://{LONG}/users/alice"},
    ),
    "block of a domain with a 300-character label": ("blocks", {"domain": LONG}),
}


@pytest.mark.parametrize("case_class", list(CASES))
async def test_a_host_name_no_resolver_takes_gets_no_server_error(app_client, case_class):
    # Given a business
    created = await create_business(app_client, "bakery")
    owner = {"Authorization": f"Bearer {created['owner_token']}"}
    where, body = CASES[case_class]
    # When the owner names a host whose label is 300 characters long
    response = await app_client.post(f"/api/v1/businesses/bakery/{where}", json=body, headers=owner)
    record("admin-api", case_class, str(response.status_code))
    # Then the answer is a 2xx or a 422, never a 5xx
    assert response.status_code in {200, 201, 422}, response.text


async def test_the_resolver_fails_an_idna_error_as_an_os_error():
    # Given a host name with a label longer than DNS allows
    # When it is resolved
    # Then resolution fails as it does for any unknown name (OSError), no UnicodeError
    with pytest.raises(OSError, match="not a host name"):
        await system_resolver(LONG, 443)
