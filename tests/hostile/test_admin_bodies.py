"""Admin API bodies under arbitrary JSON and mutations of valid bodies (property-based).

For business create/update, post create/update, media update, blocks and domain blocks,
whatever the body (any JSON value, a valid body with a key dropped, retyped or set to a
hostile string, bytes that are not JSON at all), the answer is a 2xx, or a 4xx with an
``application/problem+json`` body; never a 5xx. A refused request changed nothing: a dump
of every row it could touch is the same before and after. Both backends.

Strings never spell ``@user@host`` or ``http``: a mention or a reply target would make the
instance look it up on the network, which is not what these cases are about.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from anyio import from_thread, to_thread
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import admin_headers, create_business
from tests.read.helpers import insert_media
from tests.reliability import record

pytestmark = pytest.mark.anyio

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HOSTILE_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\ufeffbom",
    "\u202eevil",
    "b\u0430kery",
    "zero\u200bwidth",
    "<script>alert(1)</script>",
    "x" * 6000,
    "9223372036854775808",
    "-1",
    "../../etc/passwd",
    "javascript:alert(1)",
    "'; DROP TABLE businesses; --",
    "%00",
    "\r\nX-Injected: 1",
    "\U0001f35e" * 40,
]
TABLES = [
    "businesses",
    "posts",
    "media",
    "blocks",
    "follows",
    "outgoing_activities",
    "deliveries",
]


def _tame(value: Any) -> Any:
    """``value`` with every string unable to name a remote account or URL (see above)."""
    if isinstance(value, str):
        return value.replace("@", "(at)").replace("http", "htp")
    if isinstance(value, list):
        return [_tame(v) for v in value]
    if isinstance(value, dict):
        return {_tame(k): _tame(v) for k, v in value.items()}
    return value


leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**63, -(2**63) - 1, 10**30, 0, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(HOSTILE_STRINGS),
)
json_values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=15,
)


def mutations(base: dict[str, Any], keys: list[str]) -> st.SearchStrategy[Any]:
    """Bodies near ``base``: a key set to anything, dropped, or added; or any JSON at all."""

    def with_key(key: str, value: Any) -> dict[str, Any]:
        return {**base, key: value}

    def without(key: str) -> dict[str, Any]:
        return {k: v for k, v in base.items() if k != key}

    names = st.sampled_from([*keys, "unknown", "", "__proto__"])
    return st.one_of(
        json_values,
        st.builds(with_key, names, json_values),
        st.builds(with_key, names, st.sampled_from(HOSTILE_STRINGS)),
        st.builds(with_key, st.sampled_from(keys), st.lists(st.sampled_from(HOSTILE_STRINGS))),
        st.builds(without, st.sampled_from(keys)),
    ).map(_tame)


def bodies(base: dict[str, Any], keys: list[str]) -> st.SearchStrategy[bytes]:
    """Encoded mutations (NaN stays NaN, a lone surrogate a ``\\ud800`` escape), or bytes."""
    return st.one_of(
        mutations(base, keys).map(lambda v: json.dumps(v).encode()),
        mutations(base, keys).map(
            lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8", "surrogatepass")
        ),
        st.binary(max_size=64),
    )


BUSINESS_KEYS = [
    "username",
    "display_name",
    "summary",
    "website",
    "phone",
    "address",
    "fields",
    "manually_approves_followers",
    "discoverable",
    "indexable",
]
POST_KEYS = [
    "content",
    "visibility",
    "spoiler_text",
    "sensitive",
    "language",
    "in_reply_to",
    "media_ids",
    "scheduled_at",
]

#: endpoint -> (method, path, token ("admin" or "owner"), body strategy)
ENDPOINTS: dict[str, tuple[str, str, str, st.SearchStrategy[bytes]]] = {
    "business create": (
        "POST",
        "/api/v1/businesses",
        "admin",
        bodies({"username": "shop", "display_name": "Shop"}, BUSINESS_KEYS),
    ),
    "business update": (
        "PATCH",
        "/api/v1/businesses/bakery",
        "owner",
        bodies(
            {"display_name": "Bakery"},
            [*BUSINESS_KEYS[1:], "avatar_media_id", "header_media_id"],
        ),
    ),
    "post create": (
        "POST",
        "/api/v1/businesses/bakery/posts",
        "owner",
        bodies({"content": "Fresh #bread"}, POST_KEYS),
    ),
    "post preview": (
        "POST",
        "/api/v1/businesses/bakery/posts/preview",
        "owner",
        bodies({"content": "Fresh #bread"}, POST_KEYS),
    ),
    "post update": (
        "PATCH",
        "/api/v1/businesses/bakery/posts/{post}",
        "owner",
        bodies({"content": "Edited"}, POST_KEYS),
    ),
    "media update": (
        "PATCH",
        "/api/v1/businesses/bakery/media/{media}",
        "owner",
        bodies({"description": "A loaf"}, ["description"]),
    ),
    "block create": (
        "POST",
        "/api/v1/businesses/bakery/blocks",
        "owner",
        bodies({"domain": "spam.example"}, ["domain", "actor"]),
    ),
    "domain block create": (
        "POST",
        "/api/v1/admin/domain_blocks",
        "admin",
        bodies({"domain": "spam.example"}, ["domain"]),
    ),
}


async def dump(client: Any) -> list[str]:
    """Every row the admin API can write, as text, in a stable order."""
    store = client.services.store
    rows: list[str] = []
    for table in TABLES:
        found = await store.fetch_all(f"SELECT * FROM {table}")
        rows += sorted(f"{table}: {sorted(dict(r).items())!r}" for r in found)
    return rows


def _classify(body: bytes) -> str:
    """The case class of a body, for the reliability figures."""
    try:
        value = json.loads(body)
    except ValueError:
        return "not JSON (or NaN)"
    if not isinstance(value, dict):
        return "JSON that is not an object"
    if re.search(rb"\\u(0000|[dD][89a-fA-F])|\x00|\xed[\xa0-\xbf]", body):
        return "object with NUL or a lone surrogate"
    if re.search(rb"[0-9]{19}", body):
        return "object with a number or id past 2^63"
    return "object"


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
async def test_arbitrary_admin_bodies_get_a_2xx_or_a_problem_and_refusals_change_nothing(
    app_client, endpoint
):
    # Given a business with a post and an image, and the token the endpoint takes
    created = await create_business(app_client, "bakery")
    owner = {"Authorization": f"Bearer {created['owner_token']}"}
    post = await app_client.post(
        "/api/v1/businesses/bakery/posts", json={"content": "First"}, headers=owner
    )
    media_id = await insert_media(app_client)
    method, template, token, strategy = ENDPOINTS[endpoint]
    path = template.replace("{post}", post.json()["id"]).replace("{media}", str(media_id))
    headers = {**(admin_headers() if token == "admin" else owner)}
    headers["Content-Type"] = "application/json"

    async def send(body: bytes) -> None:
        before = await dump(app_client)
        # When the body is sent
        response = await app_client.request(method, path, content=body, headers=headers)
        status = response.status_code
        record("admin-api", f"{endpoint}: {_classify(body)}", str(status))
        # Then it is accepted, or refused with a problem document; never a 5xx
        assert status < 500, (body[:200], status, response.text[:300])
        if status >= 400:
            assert response.headers["content-type"] == "application/problem+json", status
            assert response.json()["status"] == status
            # And a refusal wrote nothing
            assert await dump(app_client) == before, (body[:200], status)

    # Hypothesis drives the examples from a thread; each runs on this test's event loop.
    @FUZZ
    @given(body=strategy)
    def examples(body: bytes) -> None:
        from_thread.run(send, body)

    await to_thread.run_sync(examples)
