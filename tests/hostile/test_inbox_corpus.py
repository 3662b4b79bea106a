"""Nasty inbox requests through the real app, with real signatures, on both databases.

Each case is POSTed to the app (``app_client``: the whole ASGI app in-process, lifespan
run) signed by a remote actor whose key the instance holds. Each asserts the answer is a
4xx or a 202, never a 5xx; then the worker runs over what was stored, every
``inbox_items`` row must read back (claimable, its body a JSON object, its columns valid
UTF-8 without NUL), nothing may be left to retry for nothing, and the instance must still
take and handle a good activity. Every case is recorded (``tests/reliability.py``) with
the status it got.
"""

from __future__ import annotations

import copy
import gzip
import json
import random
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fedi_town.inbound.dispatch import handle_inbox_item
from fedi_town.protocol.httpsig import sign_request
from fedi_town.protocol.json_text import MAX_JSON_DEPTH
from fedi_town.protocol.keys import load_private_key
from fedi_town.services import Services
from fedi_town.store import businesses
from fedi_town.store import queue as q
from fedi_town.store.db import now_ms
from tests.conftest import create_business
from tests.inbound.helpers import add_post, add_remote_actor, count, keypair
from tests.inbound.samples import real_activities
from tests.reliability import record

pytestmark = pytest.mark.anyio

ACTOR = "https://remote.example/users/alice"
KEY_ID = f"{ACTOR}#main-key"
AS = "https://www.w3.org/ns/activitystreams"


class Inbox:
    """The app under test, a remote actor it knows (key in ``remote_keys``), a post of
    the bakery, and signed POSTs to its inboxes."""

    def __init__(self, client: httpx.AsyncClient, post_uri: str) -> None:
        self.client = client
        self.services: Services = client.services  # type: ignore[attr-defined]
        self.post_uri = post_uri
        self.private_key = load_private_key(keypair()[0])

    def like(self, **fields: Any) -> dict[str, Any]:
        """A fresh Like of the bakery's post by the actor, with ``fields`` replaced."""
        activity = {
            "@context": AS,
            "id": f"{ACTOR}#likes/{uuid.uuid4()}",
            "type": "Like",
            "actor": ACTOR,
            "object": self.post_uri,
        }
        activity.update(fields)
        return activity

    async def post(
        self,
        body: bytes | dict[str, Any],
        *,
        path: str = "/inbox",
        headers: dict[str, str] | None = None,
        replace: dict[str, bytes] | None = None,
    ) -> int:
        """POST ``body`` signed by the actor (``headers`` added before signing, raw
        ``replace`` header values after); the status."""
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        base = {"Content-Type": "application/activity+json", **(headers or {})}
        signed: dict[str, Any] = sign_request(
            "POST",
            self.services.urls.base + path,
            base,
            raw,
            key_id=KEY_ID,
            private_key=self.private_key,
            now=self.services.clock(),
        )
        signed.update(replace or {})
        response = await self.client.post(path, content=raw, headers=signed)
        return response.status_code

    async def drain(self) -> None:
        """Run the worker's inbox handler over every due row, as the worker would; a
        handler that raises (so the row would be retried) fails the test."""
        for _ in range(20):
            rows = await q.claim(
                self.services.store, q.INBOX, now=now_ms() + 1, lease_ms=60_000, limit=100
            )
            if not rows:
                return
            for row in rows:
                outcome = await handle_inbox_item(self.services, row)
                await q.apply(self.services.store, q.INBOX, row["id"], outcome, now=now_ms())
        raise AssertionError("the inbox queue did not drain")

    async def assert_healthy(self) -> None:
        """Every stored row reads back, none is left pending, and a good Like is taken
        and handled."""
        await self.drain()
        store = self.services.store
        for row in await store.fetch_all("SELECT * FROM inbox_items"):
            assert isinstance(json.loads(row["body"]), dict)
            for column in ("activity_uri", "actor_uri", "type", "body"):
                value = str(row[column])
                assert "\x00" not in value
                value.encode("utf-8")
            assert row["state"] != "pending", (row["type"], row["last_error"])
        good = self.like()
        assert await self.post(good) == 202
        await self.drain()
        state = await store.fetch_val(
            "SELECT state FROM inbox_items WHERE activity_uri = :u", {"u": good["id"]}
        )
        assert state == "done"

    async def try_case(
        self, case_class: str, body: bytes | dict[str, Any], expected: int | None, **kw: Any
    ) -> int:
        """Send one hostile case; assert a 4xx or a 202 (``expected`` when given), the
        instance healthy after; record it."""
        status = await self.post(body, **kw)
        record("inbox", case_class, str(status))
        assert status == 202 or 400 <= status < 500, (case_class, status)
        if expected is not None:
            assert status == expected, (case_class, status)
        await self.assert_healthy()
        return status


@pytest.fixture
async def inbox(app_client: httpx.AsyncClient) -> AsyncIterator[Inbox]:
    services: Services = app_client.services  # type: ignore[attr-defined]
    await create_business(app_client, "bakery")
    business = await businesses.by_username(services.store, "bakery")
    assert business is not None
    _, post_uri = await add_post(services, business)
    await add_remote_actor(services.store, ACTOR)
    yield Inbox(app_client, post_uri)


def like_text(inbox: Inbox, **fields: Any) -> str:
    return json.dumps(inbox.like(**fields))


# -- bodies that cannot be read as one storable JSON object -----------------------------


async def test_truncated_huge_and_deep_bodies_are_refused(inbox: Inbox) -> None:
    # Given a Like cut short, one larger than max_body_bytes, and ones nested too deeply
    good = like_text(inbox).encode()
    limit = inbox.services.settings.max_body_bytes
    huge = json.dumps(inbox.like(content="x" * limit)).encode()
    deep = like_text(inbox, tag="@@").encode().replace(b'"@@"', b"[" * 10_000 + b"]" * 10_000)
    just = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    cases = [
        ("truncated body", good[: len(good) // 2], 400),
        ("empty body", b"", 400),
        ("body over max_body_bytes", huge, 413),
        ("JSON nested 10,000 deep", deep, 400),
        (
            "JSON nested one level too deep",
            like_text(inbox, tag="@@").encode().replace(b'"@@"', just),
            400,
        ),
        ("JSON array, not an object", b"[" + good + b"]", 400),
    ]
    for case_class, body, expected in cases:
        # When each is POSTed signed, Then it is refused as such, and the instance is fine
        await inbox.try_case(case_class, body, expected)


async def test_bodies_not_in_strict_utf8_are_refused(inbox: Inbox) -> None:
    # Given a Like in UTF-8 with a BOM, in UTF-16 and UTF-32 (with and without BOM), and
    # with an overlong or a surrogate UTF-8 sequence in a string
    text = json.dumps(inbox.like(content="caf\u00e9"), ensure_ascii=False)
    good = text.encode()
    cases = [
        ("UTF-8 BOM", b"\xef\xbb\xbf" + good),
        ("UTF-16 with BOM", text.encode("utf-16")),
        ("UTF-16-LE without BOM", text.encode("utf-16-le")),
        ("UTF-32 with BOM", text.encode("utf-32")),
        ("UTF-32-BE without BOM", text.encode("utf-32-be")),
        ("overlong UTF-8", good.replace(b"caf\xc3\xa9", b"caf\xc0\xaf")),
        ("raw surrogate UTF-8 bytes", good.replace(b"caf\xc3\xa9", b"caf\xed\xa0\x80")),
        ("Latin-1 body", text.encode("latin-1")),
    ]
    for case_class, body in cases:
        # When each is POSTed signed, Then it is a 400, not stored to fail later
        await inbox.try_case(case_class, body, 400)
    assert await count(inbox.services.store, "inbox_items", "state = 'failed'") == 0


async def test_lone_surrogates_and_nul_anywhere_are_refused(inbox: Inbox) -> None:
    # Given Likes whose id, type, actor, content or a key holds \ud800, \udfff or \u0000
    like = like_text(inbox, content="@@")
    cases = [
        ("lone surrogate in id", like.replace('"id": "', '"id": "\\ud800', 1)),
        (
            "lone surrogate at the end of id",
            json.dumps(inbox.like()).replace('", "type"', '\\ud800", "type"', 1),
        ),
        ("lone surrogate in type", like.replace('"Like"', '"Like\\ud800"')),
        ("lone low surrogate in content", like.replace("@@", "a\\udfffb")),
        ("reversed surrogate pair in content", like.replace("@@", "\\ude00\\ud83d")),
        ("NUL in id", like.replace('"id": "', '"id": "\\u0000', 1)),
        ("NUL in content", like.replace("@@", "a\\u0000b")),
        ("NUL in a key", like.replace('"content"', '"con\\u0000tent"')),
        ("NaN in a field", like.replace('"@@"', "NaN")),
        ("integer of 5,000 digits", like.replace('"@@"', "1" * 5000)),
    ]
    for case_class, body in cases:
        # When each is POSTed signed, Then it is a 400, and nothing unreadable is stored
        await inbox.try_case(case_class, body.encode(), 400)


async def test_a_self_delete_with_a_lone_surrogate_or_nul_actor_is_refused(inbox: Inbox) -> None:
    # Given account Deletes whose actor (and object) hold a lone surrogate or NUL
    for case_class, bad in (("lone surrogate", "\\ud800"), ("NUL", "\\u0000")):
        actor = ACTOR + "x"
        delete = {"@context": AS, "id": f"{actor}#delete", "type": "Delete"}
        text = json.dumps({**delete, "actor": actor, "object": actor}).replace(
            actor + '"', actor + bad + '"'
        )
        # When it is POSTed signed, Then it is a 400 (it once reached a query: a 500)
        await inbox.try_case(f"self-Delete with {case_class} in actor", text.encode(), 400)


async def test_a_compressed_body_is_refused_without_inflating(inbox: Inbox) -> None:
    # Given a gzip bomb: a few KB that would inflate to 50 MB, sent as Content-Encoding gzip
    bomb = gzip.compress(b'{"a":"' + b"0" * 50_000_000 + b'"}', compresslevel=9)
    assert len(bomb) < 100_000
    # When it is POSTed signed (and a gzipped good Like too), Then both are a 415
    await inbox.try_case("gzip bomb", bomb, 415, headers={"Content-Encoding": "gzip"})
    await inbox.try_case(
        "gzip-encoded activity",
        gzip.compress(like_text(inbox).encode()),
        415,
        headers={"Content-Encoding": "gzip"},
    )


# -- fields of the wrong type or shape -------------------------------------------------


async def test_wrong_typed_or_unsafe_fields_are_refused(inbox: Inbox) -> None:
    # Given Likes whose id, actor or type is of the wrong type, or not a plain URL/name
    cases: list[tuple[str, dict[str, Any]]] = [
        ("id as number", {"id": 12345}),
        ("id as list", {"id": [f"{ACTOR}#likes/1"]}),
        ("id as object", {"id": {"id": f"{ACTOR}#likes/1"}}),
        ("id missing", {"id": None}),
        ("id not http", {"id": "urn:uuid:0a1b"}),
        ("CR/LF in id", {"id": f"{ACTOR}#likes/1\r\ninbox: forged line"}),
        ("RTL override in id", {"id": f"{ACTOR}#likes/\u202e1"}),
        ("id of 3,000 characters", {"id": f"{ACTOR}#likes/" + "a" * 3000}),
        ("actor as list", {"actor": [ACTOR]}),
        ("actor as number", {"actor": 7}),
        ("type as number", {"type": 7}),
        ("type as empty list", {"type": []}),
        ("type as list with a number", {"type": ["Like", 7]}),
        ("CR/LF in type", {"type": "Like\r\nX-Forged: 1"}),
        ("empty type", {"type": ""}),
        ("foreign id", {"id": "https://elsewhere.example/likes/1"}),
    ]
    for case_class, fields in cases:
        # When each is POSTed signed, Then it is a 400
        await inbox.try_case(case_class, inbox.like(**fields), 400)


async def test_a_replayed_activity_is_stored_once(inbox: Inbox) -> None:
    # Given a Like
    like = inbox.like()
    # When it is POSTed twice (a replay), Then both are 202 and it is stored and counted once
    await inbox.try_case("replay (first)", like, 202)
    await inbox.try_case("replay (second)", like, 202)
    store = inbox.services.store
    assert await count(store, "inbox_items", "activity_uri = :u", u=like["id"]) == 1
    assert await count(store, "interactions", "activity_uri = :u", u=like["id"]) == 1


async def test_a_multi_type_activity_is_handled_as_its_first_known_type(inbox: Inbox) -> None:
    # Given Likes typed ["Like", "Foo"] and ["Foo", "Like"], and one typed only ["Foo"]
    first, second, unknown = (
        inbox.like(type=["Like", "Foo"]),
        inbox.like(type=["Foo", "Like"]),
        inbox.like(type=["Foo"]),
    )
    # When each is POSTed signed
    for case_class, like in (
        ("multi-type, known first", first),
        ("multi-type, known second", second),
        ("multi-type, none known", unknown),
    ):
        await inbox.try_case(case_class, like, 202)
    # Then the first two are stored as Likes and handled (done; the first like recorded,
    # the second a repeat of it), never failed or retried, and the unknown one is done as
    # an unhandled type
    store = inbox.services.store
    for like, kind in ((first, "Like"), (second, "Like"), (unknown, "Foo")):
        row = await store.fetch_one(
            "SELECT type, state, attempts FROM inbox_items WHERE activity_uri = :u",
            {"u": like["id"]},
        )
        assert row is not None and (row["type"], row["state"], row["attempts"]) == (
            kind,
            "done",
            1,
        )
    assert await count(store, "interactions", "activity_uri = :u", u=first["id"]) == 1


async def test_unicode_tricks_in_a_note_are_taken_and_come_out_sanitised(inbox: Inbox) -> None:
    # Given a reply to the bakery's post whose content and hashtag carry an RTL override,
    # zero-width characters, an escape sequence and a script
    biz = inbox.services.urls.actor("bakery")
    note_id = f"{ACTOR}/statuses/{uuid.uuid4().int % 10**12}"
    trick = "\u202egnp.exe\u200b\u200d\x1b[31m \U0001f600"
    create = {
        "@context": AS,
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": ACTOR,
        "to": [f"{AS}#Public"],
        "object": {
            "id": note_id,
            "type": "Note",
            "attributedTo": ACTOR,
            "inReplyTo": inbox.post_uri,
            "to": [f"{AS}#Public"],
            "cc": [biz],
            "content": f"<p>{trick} <a href='https://remote.example/tags/b' class='hashtag'>"
            f"#\u202ebread\u200b</a><script>alert(1)</script></p>",
            "summary": f"cw {trick}",
            "tag": [{"type": "Hashtag", "name": "#\u202ebread\u200b", "href": "https://x/t"}],
        },
    }
    # When it is POSTed signed, Then it is taken (202) and handled
    await inbox.try_case("RTL override and zero-width characters in a note", create, 202)
    row = await inbox.services.store.fetch_one(
        "SELECT content_html, summary FROM remote_notes WHERE uri = :u", {"u": note_id}
    )
    assert row is not None
    # And what is kept is sanitised: no script, no control characters, the override closed
    for text in (str(row["content_html"]), str(row["summary"])):
        assert "<script" not in text and "\x1b" not in text
        assert text.count("\u202e") == text.count("\u202c")
        assert "\u200b" in text  # zero-width characters are allowed
        assert "\U0001f600" in text  # and astral characters survive the store


# -- headers and paths -----------------------------------------------------------------


async def test_bad_or_non_ascii_signature_headers_are_401(inbox: Inbox) -> None:
    # Given signed Likes whose Signature, Digest or keyId are mangled, some with bytes
    # over 0x7f (which once escaped the base64 error handling as a ValueError)
    def signature_with(old: str, new: str) -> Any:
        async def send(like: dict[str, Any]) -> int:
            raw = json.dumps(like).encode()
            signed = sign_request(
                "POST",
                inbox.services.urls.base + "/inbox",
                {"Content-Type": "application/activity+json"},
                raw,
                key_id=KEY_ID,
                private_key=inbox.private_key,
                now=inbox.services.clock(),
            )
            headers = [(k.encode(), v.encode()) for k, v in signed.items()]
            headers = [
                (k, v.replace(old.encode("latin-1"), new.encode("latin-1"), 1))
                if k.lower() in (b"signature", b"digest")
                else (k, v)
                for k, v in headers
            ]
            response = await inbox.client.post("/inbox", content=raw, headers=headers)
            return response.status_code

        return send

    cases = [
        ("non-ASCII byte in Signature", signature_with('signature="', 'signature="\xe9')),
        ("non-ASCII byte in Digest", signature_with("SHA-256=", "SHA-256=\xff")),
        ("C1 control in keyId", signature_with("#main-key", "#main-key\x85")),
        ("Signature not base64", signature_with('signature="', 'signature="!!')),
        ("Signature header garbage", signature_with("keyId=", "keyId")),
        ("Digest of another body", signature_with("SHA-256=", "SHA-256=AAAA")),
    ]
    for case_class, send in cases:
        # When each is POSTed, Then it is a 401 (a SignatureError), never a 500
        status = await send(inbox.like())
        record("inbox", case_class, str(status))
        assert status == 401, (case_class, status)
        await inbox.assert_healthy()
    # And an unsigned one is a 401 too
    response = await inbox.client.post(
        "/inbox",
        content=like_text(inbox).encode(),
        headers={"Content-Type": "application/activity+json"},
    )
    record("inbox", "unsigned", str(response.status_code))
    assert response.status_code == 401


async def test_an_inbox_path_that_is_not_a_username_is_404_before_any_lookup(
    inbox: Inbox,
) -> None:
    # Given personal inbox paths whose name holds NUL, a lone surrogate's bytes, spaces
    cases = [
        ("NUL in inbox username", "/users/a%00b/inbox"),
        ("surrogate bytes in inbox username", "/users/%ED%A0%80/inbox"),
        ("overlong username", "/users/" + "a" * 200 + "/inbox"),
        ("unknown username", "/users/nobody/inbox"),
    ]
    for case_class, path in cases:
        # When a good Like is POSTed there, Then it is a 404 (on PostgreSQL NUL was a 500)
        await inbox.try_case(case_class, inbox.like(), 404, path=path)
    # And the bakery's own inbox still takes a Like
    await inbox.try_case("bakery's own inbox", inbox.like(), 202, path="/users/bakery/inbox")


async def test_ids_too_long_for_an_index_inside_a_note_are_not_retried(inbox: Inbox) -> None:
    # Given notes mentioning the bakery: one with an inReplyTo of 3,000 characters, one
    # whose own id is that long (both are indexed columns; PostgreSQL refuses such entries)
    biz = inbox.services.urls.actor("bakery")
    long_id = f"{ACTOR}/statuses/" + secrets.token_urlsafe(2400)  # incompressible
    cases = [
        ("note with an inReplyTo of 3,000 characters", {"inReplyTo": long_id}),
        ("note with an id of 3,000 characters", {"id": long_id}),
    ]
    for case_class, fields in cases:
        note_id = f"{ACTOR}/statuses/{uuid.uuid4().int % 10**12}"
        note = {
            "id": note_id,
            "type": "Note",
            "attributedTo": ACTOR,
            "to": [biz],
            "content": "<p>hello</p>",
            "tag": [{"type": "Mention", "href": biz, "name": "@bakery"}],
            **fields,
        }
        create = {
            "@context": AS,
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": ACTOR,
            "to": [biz],
            "object": note,
        }
        # When it is POSTed signed, Then it is taken and handled or dropped, never retried
        await inbox.try_case(case_class, create, 202)


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """A JSON value of any type, some of them shaped like what the field might hold."""
    choices: list[Any] = [
        None,
        True,
        0,
        -1,
        2**63,
        1.5,
        "",
        "x",
        ACTOR,
        "https://elsewhere.example/x",
        "\u202e\u200b",
        "a" * 300,
        [],
        {},
    ]
    if depth < 3:
        choices += [
            [random_value(rng, depth + 1) for _ in range(rng.randint(1, 3))],
            {rng.choice(["id", "type", "href", "name", "x"]): random_value(rng, depth + 1)},
        ]
    return rng.choice(choices)


def paths_in(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths_in(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths_in(item, (*prefix, index))
    return found


async def test_real_activities_with_fields_replaced_are_handled_or_dropped(inbox: Inbox) -> None:
    # Given real-world activities (tests/inbound/payloads.py) from alice to the bakery, each
    # with one to three fields anywhere replaced by values of any type (seeded, repeatable)
    biz = inbox.services.urls.actor("bakery")
    rng = random.Random(11)
    outcomes: dict[str, int] = {}
    for round_ in range(200):
        # alice's key as stored (a mangled Update or Delete of herself may drop it)
        await add_remote_actor(inbox.services.store, ACTOR)
        activity = copy.deepcopy(rng.choice(real_activities(ACTOR, biz, inbox.post_uri)))
        activity["id"] = f"{ACTOR}#mutated/{round_}"
        for _ in range(rng.randint(1, 3)):
            where = [p for p in paths_in(activity) if p not in (("id",), ("actor",))]
            path = rng.choice(where)
            parent = activity
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = random_value(rng)
        # When it is POSTed signed and the worker runs, Then it is a 4xx or a 202, and it is
        # handled or dropped on purpose: never left pending to retry, nothing unreadable
        status = await inbox.post(activity)
        assert status == 202 or 400 <= status < 500, status
        await inbox.drain()
        row = await inbox.services.store.fetch_one(
            "SELECT state, last_error FROM inbox_items WHERE activity_uri = :u",
            {"u": activity["id"]},
        )
        state = None if row is None else row["state"]
        outcome = str(status) if row is None else f"{status} {state}"
        if state == "failed":
            outcome += f" ({row['last_error']})"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        record("inbox", "real activity with fields replaced, handled", outcome)
        assert state != "pending", activity
    await inbox.assert_healthy()
