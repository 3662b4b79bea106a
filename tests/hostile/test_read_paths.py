"""Unauthenticated read routes under hostile paths and queries: 404 or 400, never a 5xx.

Huge, negative and non-numeric ids, NUL and overlong percent-encodings, unicode and
overlong usernames, garbage paging parameters: each class below is tried against a
business with a post, as a browser and as an ActivityPub client, on both backends.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from anyio import from_thread, to_thread
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import create_business
from tests.read.helpers import AP, BROWSER, insert_post
from tests.reliability import record

pytestmark = pytest.mark.anyio

HUGE = "99999999999999999999999"
TWO_63 = "9223372036854775808"

#: class -> (paths, the statuses allowed). ``{post}`` is a real, public post's id.
CASES: dict[str, tuple[list[str], set[int]]] = {
    "post id past 2^63 in a path": (
        [
            f"/@bakery/{HUGE}",
            f"/users/bakery/statuses/{TWO_63}",
            f"/users/bakery/statuses/{HUGE}",
            f"/users/bakery/statuses/{TWO_63}/activity",
            f"/users/bakery/statuses/{TWO_63}/replies",
            f"/users/bakery/statuses/{TWO_63}/replies?page=1",
            f"/users/bakery/statuses/{TWO_63}/likes",
            f"/users/bakery/statuses/{TWO_63}/shares",
            "/users/bakery/statuses/" + "9" * 5000,
        ],
        {404},
    ),
    "zero, negative or non-numeric post id": (
        [
            "/@bakery/0",
            "/users/bakery/statuses/0",
            "/users/bakery/statuses/-1",
            "/users/bakery/statuses/1e3",
            "/users/bakery/statuses/0x10",
            "/users/bakery/statuses/%EF%BC%91",  # fullwidth 1
            "/users/bakery/statuses/%D9%A1",  # Arabic-Indic 1
            "/users/bakery/statuses/%C2%B2",  # superscript 2
            "/users/bakery/statuses/abc",
        ],
        {404},
    ),
    "NUL in a path": (
        [
            "/@bakery%00",
            "/users/bakery%00",
            "/users/%00",
            "/@bakery/%00",
            "/users/bakery/statuses/%00",
            "/users/bakery%00/outbox",
            "/@bakery/tagged/%00",
            "/nodeinfo/%00",
            "/media/%00",
        ],
        {404, 400},
    ),
    "overlong or invalid percent-encoding": (
        [
            "/users/%C0%AE%C0%AE",
            "/@%E0%80%AF",
            "/users/%ED%A0%80",
            "/@%FF%FE",
            "/users/%",
            "/@bakery/tagged/%C0%80",
            "/media/%C0%AE%C0%AE/%C0%AE%C0%AE/etc/passwd",
            "/media/..%2F..%2Fetc%2Fpasswd",
        ],
        {404, 400},
    ),
    "unicode usernames": (
        [
            "/@b%D0%B0kery",  # Cyrillic a
            "/users/bakery%E2%80%8B",  # zero-width space
            "/@%E2%80%AEyrekab",  # RTL override
            "/users/%F0%9F%8D%9E",
            "/@B%C3%84KERY",
            "/users/bakery%EF%BC%8F",
        ],
        {404, 400},
    ),
    "overlong username": (
        [
            "/@" + "a" * 10_000,
            "/users/" + "a" * 10_000,
            "/users/" + "a" * 10_000 + "/outbox",
            "/@" + "a" * 10_000 + "/tagged/x",
        ],
        {404, 400, 414},
    ),
    "garbage paging parameters": (
        [
            "/users/bakery/outbox?page=garbage",
            "/users/bakery/outbox?page=" + HUGE,
            "/users/bakery/outbox?page=-1",
            "/users/bakery/outbox?page=0",
            "/users/bakery/followers?page=%00",
            "/users/bakery/following?page=1e9",
            "/users/bakery/statuses/{post}/replies?page=" + TWO_63,
            "/@bakery?max_id=garbage",
            "/@bakery?max_id=" + HUGE,
            "/@bakery?since_id=%00",
            "/users/bakery/outbox?max_id=-1&min_id=" + HUGE,
        ],
        {200, 400},
    ),
    "hostile discovery queries": (
        [
            "/.well-known/webfinger?resource=acct:%00@town.example",
            "/.well-known/webfinger?resource=acct:bakery%ED%A0%80@town.example",
            "/.well-known/webfinger?resource=" + "a" * 10_000,
            "/.well-known/webfinger?resource=acct:b%D0%B0kery@town.example",
            "/.well-known/webfinger?resource=https://town.example/users/%00",
            "/.well-known/webfinger",
            "/nodeinfo/2.1%00",
            "/nodeinfo/" + "9" * 1000,
            "/@bakery/follow?handle=%00",
            "/@bakery/follow?handle=" + "@a" * 3000,
        ],
        {200, 400, 404, 422},
    ),
    "hostile hashtag in a path": (
        [
            "/@bakery/tagged/" + "a" * 5000,
            "/@bakery/tagged/%E2%80%AEtag",
            "/@bakery/tagged/%23",
            "/@bakery/tagged/%ED%A0%80",
            "/@bakery/tagged/%3Cscript%3E",
        ],
        {200, 404, 400},
    ),
}


@pytest.mark.parametrize("case_class", list(CASES))
async def test_hostile_read_paths_are_refused_without_a_server_error(app_client, case_class):
    # Given a business with a public post
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client)
    paths, allowed = CASES[case_class]
    for path in paths:
        for headers in (AP, BROWSER):
            # When an unauthenticated client asks for a hostile path
            response = await app_client.get(path.replace("{post}", str(post_id)), headers=headers)
            record("read", case_class, str(response.status_code))
            # Then the answer is one of the refusals the class allows, never a 5xx
            assert response.status_code < 500, (path, response.status_code)
            assert response.status_code in allowed, (path, response.status_code)


HOSTILE_HEADERS: dict[str, dict[str, str]] = {
    "Accept of 8,000 characters": {"Accept": "application/activity+json;" + "q=1;" * 2000},
    "Accept with NUL-like and Latin-1 bytes": {"Accept": "text/html\x7f\xff, */*;q=\xe9"},
    "garbage Signature": {"Accept": "application/activity+json", "Signature": 'keyId="\x01",,'},
    "garbage Authorization signature": {
        "Accept": "application/activity+json",
        "Authorization": "Signature " + "a" * 5000,
    },
    "Signature-Input without Signature": {
        "Accept": "application/activity+json",
        "Signature-Input": 'sig1=("@method");keyid="x"',
    },
    "If-None-Match and If-Modified-Since garbage": {
        "If-None-Match": '"' * 3000,
        "If-Modified-Since": "yesterday\xff",
    },
}
READ_PATHS = [
    "/@bakery",
    "/users/bakery",
    "/users/bakery/statuses/{post}",
    "/users/bakery/outbox?page=1",
    "/users/bakery/followers?page=1",
    "/.well-known/webfinger?resource=acct:bakery@town.example",
    "/nodeinfo/2.1",
    "/actor",
]


@pytest.mark.parametrize("case_class", list(HOSTILE_HEADERS))
async def test_hostile_headers_on_read_routes_get_no_server_error(app_client, case_class):
    # Given a business with a public post
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client)
    for path in READ_PATHS:
        # When a read route is asked with hostile headers
        headers = {k: v.encode("latin-1") for k, v in HOSTILE_HEADERS[case_class].items()}
        response = await app_client.get(path.replace("{post}", str(post_id)), headers=headers)
        record("read", case_class, str(response.status_code))
        # Then it is answered or refused, never with a 5xx
        assert response.status_code < 500, (path, response.status_code)


def _segment(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


segments = st.one_of(
    st.text(max_size=30).map(_segment),
    st.sampled_from(["%00", "%", "%C0%AE", "%ED%A0%80", "%FF", "..", "bakery", "BAKERY", ""]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(alphabet="0123456789", min_size=1, max_size=40),
)
TEMPLATES = [
    "/@{a}",
    "/users/{a}",
    "/users/{a}/statuses/{b}",
    "/@{a}/{b}",
    "/users/bakery/statuses/{b}",
    "/users/bakery/statuses/{b}/replies?page={c}",
    "/@bakery/tagged/{a}",
    "/.well-known/webfinger?resource={a}",
    "/.well-known/webfinger?resource=acct:{a}%40town.example",
    "/users/bakery/outbox?page={c}",
    "/users/{a}/followers?page={c}",
    "/nodeinfo/{a}",
    "/media/{a}/{b}",
    "/@bakery/follow?handle={c}",
]


async def test_arbitrary_read_paths_never_get_a_server_error(app_client):
    # Given a business with a public post
    await create_business(app_client, "bakery")
    await insert_post(app_client)

    async def fetch(path: str, headers: dict[str, str]) -> None:
        # When an arbitrary path and query is read
        response = await app_client.get(path, headers=headers)
        record("read", "arbitrary path segments and queries", str(response.status_code))
        # Then the answer is anything but a 5xx
        assert response.status_code < 500, (path, response.status_code)

    # Hypothesis drives the examples from a thread; each runs on this test's event loop.
    @settings(max_examples=150, deadline=None, derandomize=True, database=None)
    @given(
        template=st.sampled_from(TEMPLATES),
        a=segments,
        b=segments,
        c=segments,
        headers=st.sampled_from([AP, BROWSER, {}]),
    )
    def examples(template: str, a: str, b: str, c: str, headers: dict[str, str]) -> None:
        from_thread.run(fetch, template.format(a=a, b=b, c=c), headers)

    await to_thread.run_sync(examples)


FOLLOW_FORMS: dict[str, bytes] = {
    "NUL in the handle": b"handle=%00",
    "raw NUL bytes": b"\x00" * 500,
    "invalid UTF-8": b"handle=\xff\xfe%C0%AE",
    "lone surrogate escape": b"handle=%ED%A0%80%40evil.example",
    "a thousand fields": b"&".join(b"handle=%d" % n for n in range(1000)),
    "a handle of 5,000 characters": b"handle=" + b"a" * 5000 + b"%40x.example",
    "a body past the form limit": b"handle=" + b"a" * 100_000,
    "script in the handle": b"handle=%3Cscript%3Ealert(1)%3C/script%3E%40x.example",
    "an IP literal host": b"handle=%40a%40127.0.0.1",
}


@pytest.mark.parametrize("case_class", list(FOLLOW_FORMS))
async def test_hostile_remote_follow_forms_are_answered_without_a_server_error(
    app_client, case_class
):
    # Given a business
    await create_business(app_client, "bakery")
    # When its remote-follow form is posted a hostile body
    response = await app_client.post(
        "/@bakery/follow",
        content=FOLLOW_FORMS[case_class],
        headers={**BROWSER, "Content-Type": "application/x-www-form-urlencoded"},
    )
    record("read", f"remote-follow form: {case_class}", str(response.status_code))
    # Then the page says what is wrong (400/413), or redirects; never a 5xx, never a script
    assert response.status_code in {303, 400, 413}, response.status_code
    assert "<script>alert" not in response.text
