"""The HTTP signature and digest parsers under arbitrary input (property-based).

Whatever a peer puts in ``Signature``, ``Signature-Input``, ``Authorization``, ``Digest``,
``Content-Digest``, ``Date`` or ``Host`` (any Latin-1 text: ASGI hands header bytes over
as Latin-1, and bytes over 0x7f are legal obs-text), parsing returns a ``SignatureInput``
or raises a ``SignatureError`` (401 at the inbox), and verifying what parsed does the
same: never a ``ValueError``, ``IndexError`` or anything else that would be a 500.
Cases are real signed requests (cavage with RSA and Ed25519, RFC 9421), mutated, and
headers made up from scratch.
"""

from __future__ import annotations

import base64
import functools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedi_town.errors import SignatureError
from fedi_town.protocol import digest
from fedi_town.protocol.httpsig import (
    SignatureInput,
    parse_request_signature,
    sign_request,
    verify_request_signature,
)
from fedi_town.protocol.keys import (
    PrivateKey,
    PublicKey,
    generate_ed25519_keypair,
    load_private_key,
    load_public_key,
)
from tests.inbound.helpers import keypair
from tests.reliability import record

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
HOST = "town.example"
ORIGIN = f"https://{HOST}"
INBOX = f"{ORIGIN}/users/bakery/inbox"
TARGET = "/users/bakery/inbox"
KEY_ID = "https://remote.example/users/alice#main-key"
BODY = (
    b'{"@context":"https://www.w3.org/ns/activitystreams","id":"https://remote.example/l/1",'
    b'"type":"Like","actor":"https://remote.example/users/alice",'
    b'"object":"https://town.example/users/bakery/posts/1"}'
)
SIG_HEADERS = (
    "signature",
    "signature-input",
    "authorization",
    "digest",
    "content-digest",
    "date",
    "host",
    "content-type",
)
FUZZ = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

#: Header text as the app sees it: every Latin-1 character, controls included.
latin1 = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=120)
#: Text that looks more like header syntax, so mutations get past the first checks.
syntaxish = st.text(alphabet='abcdefghikms0123456789-=:;,"() @/#.*+?_\xe9\xff\x00\t', max_size=60)
fragment = st.one_of(latin1, syntaxish)


@functools.cache
def keys() -> dict[str, tuple[PrivateKey, PublicKey]]:
    private_pem, public_pem = keypair()
    ed_private, ed_public = generate_ed25519_keypair()
    return {
        "rsa": (load_private_key(private_pem), load_public_key(public_pem)),
        "ed25519": (load_private_key(ed_private), load_public_key(ed_public)),
    }


@functools.cache
def signed(scheme: str, key: str) -> tuple[tuple[str, str], ...]:
    """The headers of a real signed POST of ``BODY`` to our inbox."""
    private_key = keys()[key][0]
    headers = sign_request(
        "POST",
        INBOX,
        {"Content-Type": "application/activity+json"},
        BODY,
        key_id=KEY_ID,
        private_key=private_key,
        now=NOW,
        scheme="cavage" if scheme == "cavage" else "rfc9421",
    )
    return tuple(headers.items())


REQUESTS = [("cavage", "rsa"), ("cavage", "ed25519"), ("rfc9421", "rsa"), ("rfc9421", "ed25519")]


def parse_and_verify(
    headers: list[tuple[str, str]], body: bytes, key: str, target: str = TARGET
) -> str:
    """``verified`` or the SignatureError's class; anything else propagates."""
    try:
        sig = parse_request_signature("POST", target, headers, body, origin=ORIGIN)
    except SignatureError as exc:
        return exc.__class__.__name__
    assert isinstance(sig, SignatureInput)
    try:
        verify_request_signature(
            sig, keys()[key][1], now=NOW, max_skew=timedelta(hours=1), expected_host=HOST
        )
    except SignatureError as exc:
        return exc.__class__.__name__
    return "verified"


@st.composite
def mutated_request(draw: st.DrawFn) -> tuple[list[tuple[str, str]], bytes, str, str, str]:
    scheme, key = draw(st.sampled_from(REQUESTS))
    headers = list(signed(scheme, key))
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(headers) - 1))
        name, value = headers[index]
        how = draw(st.sampled_from(["replace", "insert", "cut", "repeat", "drop", "rename"]))
        if how == "replace":
            headers[index] = (name, draw(fragment))
        elif how == "insert":
            at = draw(st.integers(0, len(value)))
            headers[index] = (name, value[:at] + draw(fragment) + value[at:])
        elif how == "cut":
            start = draw(st.integers(0, len(value)))
            headers[index] = (name, value[:start] + value[draw(st.integers(start, len(value))) :])
        elif how == "repeat":
            headers.append((name, draw(st.sampled_from([value, draw(fragment)]))))
        elif how == "drop" and len(headers) > 1:
            headers.pop(index)
        else:
            headers[index] = (draw(st.sampled_from(SIG_HEADERS)), value)
    body = draw(st.sampled_from([BODY, BODY + b" ", b"", draw(st.binary(max_size=64))]))
    target = draw(st.sampled_from([TARGET, TARGET + "?" + draw(fragment), draw(fragment)]))
    return headers, body, f"{scheme}/{key}", key, target


@FUZZ
@given(mutated_request())
def test_a_mutated_signed_request_parses_or_raises_a_signature_error(case) -> None:
    # Given a real signed request with one to three headers mangled
    headers, body, kind, key, target = case
    # When it is parsed and verified, Then the outcome is a verdict, never a crash
    outcome = parse_and_verify(headers, body, key, target)
    record("signatures", f"mutated {kind} request", outcome)


@FUZZ
@given(
    st.lists(st.tuples(st.sampled_from(SIG_HEADERS), fragment), max_size=6),
    st.binary(max_size=32),
)
def test_made_up_signature_headers_parse_or_raise_a_signature_error(headers, body) -> None:
    # Given signature, digest, date and host headers holding arbitrary text
    # When they are parsed, Then a verdict comes back, never a crash
    outcome = parse_and_verify(headers, body, "rsa")
    record("signatures", "made-up signature headers", outcome)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["keyId", "algorithm", "headers", "signature", "created", "expires"]),
        fragment,
    ),
    st.sampled_from(["signature", "authorization"]),
)
def test_a_cavage_header_of_arbitrary_parameters_parses_or_raises(params, where) -> None:
    # Given a cavage Signature (or Authorization: Signature) of quoted arbitrary values
    value = ",".join(f'{name}="{text}"' for name, text in params.items())
    if where == "authorization":
        value = "Signature " + value
    headers = [(where, value), ("host", HOST), ("date", "Mon, 23 Nov 2026 12:00:00 GMT")]
    headers.append(("digest", digest.make_digest(BODY)))
    # When it is parsed, Then a verdict comes back, never a crash
    outcome = parse_and_verify(headers, BODY, "rsa")
    record("signatures", "cavage header of arbitrary parameters", outcome)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@FUZZ
@given(
    st.lists(
        st.sampled_from(
            [
                *('"@method"', '"@target-uri"', '"@authority"', '"content-digest"', '"@path"'),
                *('"@query-param";name="a"', '"host";sf', '"date";bs', '"x";key="k"', "@method"),
            ]
        ),
        max_size=5,
    ),
    st.lists(
        st.sampled_from(["created=1795435200", 'keyid="' + KEY_ID + '"', "alg=1", "expires=-1"])
        | fragment.map(lambda text: f'nonce="{text}"')
        | st.sampled_from(['alg="ed25519"', 'alg="hmac-sha256"', "created=99999999999999999"]),
        max_size=4,
    ),
    st.one_of(fragment, st.binary(min_size=1, max_size=64).map(_b64)),
)
def test_an_rfc9421_signature_input_of_arbitrary_components_parses_or_raises(
    components, params, signature
) -> None:
    # Given Signature-Input and Signature built from arbitrary components and parameters
    inner = "(" + " ".join(components) + ")" + "".join(";" + p for p in params)
    inner += f';created=1795435200;keyid="{KEY_ID}"' if len(params) % 2 else ""
    headers = [
        ("signature-input", f"sig1={inner}"),
        ("signature", f"sig1=:{signature}:"),
        ("host", HOST),
        ("content-digest", digest.make_content_digest(BODY)),
    ]
    # When they are parsed, Then a verdict comes back, never a crash
    outcome = parse_and_verify(headers, BODY, "rsa")
    record("signatures", "RFC 9421 input of arbitrary components", outcome)


def check_or_refuse(check, value: str, body: bytes) -> str:
    try:
        check(value, body)
    except SignatureError as exc:
        return exc.__class__.__name__
    return "matched"


@FUZZ
@given(st.one_of(fragment, fragment.map(lambda text: "SHA-256=" + text)), st.binary(max_size=16))
def test_a_digest_header_matches_or_raises_a_signature_error(value, body) -> None:
    # Given a Digest header of arbitrary Latin-1 text (a non-ASCII byte once gave a 500)
    # When it is checked against a body, Then it matches or is a SignatureError
    outcome = check_or_refuse(digest.check_digest, value, body)
    record("signatures", "arbitrary Digest", outcome)


@FUZZ
@given(
    st.one_of(fragment, fragment.map(lambda text: f"sha-256=:{text}:")),
    st.binary(max_size=16),
)
def test_a_content_digest_header_matches_or_raises_a_signature_error(value, body) -> None:
    # Given a Content-Digest header of arbitrary Latin-1 text
    # When it is checked against a body, Then it matches or is a SignatureError
    outcome = check_or_refuse(digest.check_content_digest, value, body)
    record("signatures", "arbitrary Content-Digest", outcome)


def test_a_non_ascii_byte_in_the_signature_value_is_bad_base64() -> None:
    # Given a real cavage signature whose base64 holds a byte over 0x7f (Latin-1 decoded)
    headers = [
        (name, value.replace('signature="', 'signature="\xe9') if name == "Signature" else value)
        for name, value in signed("cavage", "rsa")
    ]
    # When it is parsed, Then it is refused as bad base64 (401), not a ValueError (500)
    outcome = parse_and_verify(headers, BODY, "rsa")
    assert outcome == "BadBase64"
    record("signatures", "non-ASCII byte in Signature", outcome)


def test_a_non_ascii_byte_in_the_digest_is_bad_base64() -> None:
    # Given a Digest whose base64 holds a byte over 0x7f
    # When it is checked, Then it is refused as bad base64, not a ValueError
    outcome = check_or_refuse(digest.check_digest, "SHA-256=\xff" + "A" * 43, BODY)
    assert outcome == "BadBase64"
    record("signatures", "non-ASCII byte in Digest", outcome)


def test_a_key_id_with_a_control_character_is_malformed() -> None:
    # Given a real cavage signature whose keyId carries a C1 control (NEL, from byte 0x85)
    headers = [
        (name, value.replace("#main-key", "#main-key\x85forged") if name == "Signature" else value)
        for name, value in signed("cavage", "rsa")
    ]
    # When it is parsed, Then it is malformed: such a keyId never reaches a log or a query
    outcome = parse_and_verify(headers, BODY, "rsa")
    assert outcome == "MalformedSignature"
    record("signatures", "control character in keyId", outcome)


def test_every_unmutated_request_verifies() -> None:
    # Given the real signed requests the mutations start from
    # When each is parsed and verified, Then it verifies (so mutations start from good input)
    for scheme, key in REQUESTS:
        assert parse_and_verify(list(signed(scheme, key)), BODY, key) == "verified"
