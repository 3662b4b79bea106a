"""draft-cavage HTTP signatures: round trips, every failure mode, and real peers' shapes.

Requests "as Mastodon sends them" are signed here with cryptography directly, not with our
signer, so a bug shared by our signer and verifier cannot hide. The fixtures marked
"Mastodon spec" are the signed requests from Mastodon's own test suite
(spec/requests/signature_verification_spec.rb, v4.3+), verified with its test key.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from fedi_town.errors import SignatureError
from fedi_town.protocol.httpsig import (
    BadBase64,
    DateInFuture,
    DateTooOld,
    DigestMismatch,
    HostMismatch,
    InvalidSignature,
    MalformedDate,
    MalformedSignature,
    MissingDigest,
    MissingSignature,
    MissingSignedHeader,
    SignatureInput,
    UnsupportedAlgorithm,
    parse_request_signature,
    precheck_request_signature,
    sign_request,
    verify_request_signature,
)
from fedi_town.protocol.keys import (
    PrivateKey,
    PublicKey,
    generate_ed25519_keypair,
    generate_rsa_keypair,
    load_private_key,
    load_public_key,
)

NOW = datetime(2025, 11, 5, 12, 0, 0, tzinfo=UTC)
HOST = "town.example"
INBOX = f"https://{HOST}/users/bakery/inbox"
KEY_ID = "https://mastodon.example/users/alice#main-key"
BODY = json.dumps(
    {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://mastodon.example/users/alice#follows/1",
        "type": "Follow",
        "actor": "https://mastodon.example/users/alice",
        "object": "https://town.example/users/bakery",
    }
).encode()
AP_JSON = "application/activity+json"

# Mastodon spec fixtures: the public half of the key in signature_verification_spec.rb.
BOB_KEY_ID = "https://remote.domain/users/bob#main-key"
BOB_PUBLIC_PEM = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqIAYvNFGbZ5g4iiK6feS
dXD4bDStFM58A7tHycYXaYtzZQpIeHXAmaXuZzXIwtrP4N0gIk8JNwZvXj2UPS+S
07t0V9wNK94he01LV5EMz/GN4eNnFmDL64HIEuKLvV8TvgjbUPRD6Y5X0UpKi2ZI
FLSb96Q5w0Z/k7ntpVKV52y8kz5Fjr/O/0JuHryZe0yItzJh8kzFfeMf0EXzfSna
KvT7P9jhgC6uTre+jXyvVZjiHDrnqvvucdI3I7DRfXo1OqARBrLjy+TdseUAjNYJ
+OuPRI1URIWQI01DCHqcohVu9+Ar+BiCjFp3ua+XMuJvrvbD61d1Fvig/9nbBRR+
8QIDAQAB
-----END PUBLIC KEY-----
"""
MASTODON_SPEC_NOW = datetime(2023, 12, 20, 10, 0, 0, tzinfo=UTC)
MASTODON_SPEC_DATE = "Wed, 20 Dec 2023 10:00:00 GMT"
MASTODON_SPEC_HOST = "www.example.com"
MASTODON_SPEC_GET_SIG = (
    "Z8ilar3J7bOwqZkMp7sL8sRs4B1FT+UorbmvWoE+A5UeoOJ3KBcUmbsh+k3wQwbP5gMNUrra9rEWabpasZGphLsbD"
    "xfbsWL3Cf0PllAc7c1c7AFEwnewtExI83/qqgEkfWc2z7UDutXc2NfgAx89Ox8DXU/fA2GG0jILjB6UpFyNugkY9rg6"
    "oI31UnvfVi3R7sr3/x8Ea3I9thPvqI2byF6cojknSpDAwYzeKdngX3TAQEGzFHz3SDWwyp3jeMWfwvVVbM38FxhvAnS"
    "umw7YwWW4L7M7h4M68isLimoT3yfCn2ucBVL5Dz8koBpYf/40w7QidClAwCafZQFC29yDOg=="
)
MASTODON_SPEC_GET_QUERY_SIG = (
    "SDMa4r/DQYMXYxVgYO2yEqGWWUXugKjVuz0I8dniQAk+aunzBaF2aPu+4grBfawAshlx1Xytl8lhb0H2MllEz16/tKY7"
    "rUrb70MK0w8ohXgpb0qs3YvQgdj4X24L1x2MnkFfKHR/J+7TBlnivq0HZqXm8EIkPWLv+eQxu8fbowLwHIVvRd/3t6Fz"
    "vcfsE0UZKkoMEX02542MhwSif6cu7Ec/clsY9qgKahb9JVGOGS1op9Lvg/9y1mc8KCgD83U5IxVygYeYXaVQ6gixA9Ng"
    "ZiTCwEWzHM5ELm7w5hpdLFYxYOHg/3G3fiqJzpzNQAcCD4S4JxfE7hMI0IzVlNLT6A=="
)
MASTODON_SPEC_POST_SIG = (
    "gmhMjgMROGElJU3fpehV2acD5kMHeELi8EFP2UPHOdQ54H0r55AxIpji+J3lPe+N2qSb/4H1KXIh6f0lRu8TGSsu12OQ"
    "mg5hiO8VA9flcA/mh9Lpk+qwlQZIPRqKP9xUEfqD+Z7ti5wPzDKrWAUK/7FIqWgcT/mlqB1R1MGkpMFc/q4CIs2OSNiW"
    "gA4K+Kp21oQxzC2kUuYob04gAZ7cyE/FTia5t08uv6lVYFdRsn4XNPn1MsHgFBwBMRG79ng3SyhoG4PrqBEi5q2IdLq3"
    "zfre/M6He3wlCpyO2VJNdGVoTIzeZ0Zz8jUscPV3XtWUchpGclLGSaKaq/JyNZeiYQ=="
)
MASTODON_SPEC_POST_DIGEST_UNSIGNED_SIG = (
    "CPD704CG8aCm8X8qIP8kkkiGp1qwFLk/wMVQHOGP0Txxan8c2DZtg/KK7eN8RG8tHx8br/yS2hJs51x4kXImYukGzNJd"
    "7ihE3T8lp+9RI1tCcdobTzr/VcVJHDFySdQkg266GCMijRQRZfNvqlJLiisr817PI+gNVBI5qV+vnVd1XhWCEZ+YSmMe"
    "8UqYARXAYNqMykTheojqGpTeTFGPUpTQA2Fmt2BipwIjcFDm2Hpihl2kB0MUS0x3zPmHDuadvzoBbN6m3usPDLgYrpAL"
    "lh+wDs1dYMntcwdwawRKY1oE1XNtgOSum12wntDq3uYL4gya2iPdcw3c929b4koUzw=="
)
MASTODON_SPEC_BODY = b"Hello world"
MASTODON_SPEC_DIGEST = "SHA-256=ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw="


def mastodon_spec_signature(headers: str, signature: str) -> str:
    return (
        f'keyId="{BOB_KEY_ID}",algorithm="rsa-sha256",headers="{headers}",signature="{signature}"'
    )


@pytest.fixture(scope="module")
def alice() -> tuple[PrivateKey, PublicKey]:
    private_pem, public_pem = generate_rsa_keypair()
    return load_private_key(private_pem), load_public_key(public_pem)


@pytest.fixture(scope="module")
def mallory() -> tuple[PrivateKey, PublicKey]:
    private_pem, public_pem = generate_rsa_keypair()
    return load_private_key(private_pem), load_public_key(public_pem)


@pytest.fixture(scope="module")
def ed_alice() -> tuple[PrivateKey, PublicKey]:
    private_pem, public_pem = generate_ed25519_keypair()
    return load_private_key(private_pem), load_public_key(public_pem)


@pytest.fixture(scope="module")
def bob_public_key() -> PublicKey:
    return load_public_key(BOB_PUBLIC_PEM)


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def sha256_digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def peer_signature(
    private_key: PrivateKey,
    signed: list[tuple[str, str]],
    *,
    key_id: str = KEY_ID,
    algorithm: str = "rsa-sha256",
    extra: str = "",
) -> str:
    """A Signature header built the way Mastodon's SignedRequest builds it, by hand."""
    signing_string = "\n".join(f"{name}: {value}" for name, value in signed).encode()
    raw = private_key.sign(signing_string, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[call-arg]
    names = " ".join(name for name, _ in signed)
    return (
        f'keyId="{key_id}",algorithm="{algorithm}",headers="{names}",{extra}'
        f'signature="{base64.b64encode(raw).decode()}"'
    )


def signed_post(
    private_key: PrivateKey, *, body: bytes = BODY, now: datetime = NOW
) -> dict[str, str]:
    return sign_request(
        "POST",
        INBOX,
        {"Content-Type": AP_JSON},
        body,
        key_id=KEY_ID,
        private_key=private_key,
        now=now,
    )


def verify_post(
    headers: dict[str, str], public_key: PublicKey, *, body: bytes = BODY
) -> SignatureInput:
    sig = parse_request_signature("POST", "/users/bakery/inbox", headers, body)
    verify_request_signature(sig, public_key, now=NOW, expected_host=HOST)
    return sig


# --- round trips -----------------------------------------------------------------------


def test_signed_post_verifies_with_the_signers_key(alice: tuple[PrivateKey, PublicKey]) -> None:
    # Given a POST signed with Alice's RSA key
    headers = signed_post(alice[0])
    # When it is parsed and verified with her public key
    sig = verify_post(headers, alice[1])
    # Then it is a cavage rsa-sha256 signature over what Mastodon requires for a POST
    assert sig.scheme == "cavage"
    assert sig.key_id == KEY_ID
    assert sig.algorithm == "rsa-sha256"
    assert sig.covered == ("(request-target)", "host", "date", "digest", "content-type")


def test_signed_post_carries_host_date_digest_and_content_type(
    alice: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a POST to sign
    # When it is signed
    headers = signed_post(alice[0])
    # Then every header the receiver needs is returned, in Mastodon's formats
    assert headers["Host"] == HOST
    assert headers["Date"] == "Wed, 05 Nov 2025 12:00:00 GMT"
    assert headers["Digest"] == sha256_digest(BODY)
    assert headers["Content-Type"] == AP_JSON
    assert 'algorithm="rsa-sha256"' in headers["Signature"]
    assert 'headers="(request-target) host date digest content-type"' in headers["Signature"]
    assert f'keyId="{KEY_ID}"' in headers["Signature"]


def test_signed_get_verifies_and_signs_only_target_host_and_date(
    alice: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a GET of an actor, with an Accept header
    headers = sign_request(
        "GET",
        f"https://{HOST}/users/bakery?page=1",
        {"Accept": AP_JSON},
        None,
        key_id=KEY_ID,
        private_key=alice[0],
        now=NOW,
    )
    # When it is verified
    sig = parse_request_signature("GET", "/users/bakery?page=1", headers, b"")
    verify_request_signature(sig, alice[1], now=NOW, expected_host=HOST)
    # Then it signed (request-target) host date, carries no digest, and kept Accept
    assert sig.covered == ("(request-target)", "host", "date")
    assert "Digest" not in headers
    assert headers["Accept"] == AP_JSON


def test_ed25519_signature_uses_hs2019_and_verifies(ed_alice: tuple[PrivateKey, PublicKey]) -> None:
    # Given a POST signed with an Ed25519 key
    headers = signed_post(ed_alice[0])
    # When it is verified with the Ed25519 public key
    sig = verify_post(headers, ed_alice[1])
    # Then the declared algorithm was hs2019
    assert sig.algorithm == "hs2019"


def test_signing_replaces_stale_signature_headers(alice: tuple[PrivateKey, PublicKey]) -> None:
    # Given caller headers that already hold an old Date and Signature (a retried delivery)
    stale = {"date": "Mon, 01 Jan 2024 00:00:00 GMT", "signature": "old", "Content-Type": AP_JSON}
    # When the request is signed again
    headers = sign_request("POST", INBOX, stale, BODY, key_id=KEY_ID, private_key=alice[0], now=NOW)
    # Then only the fresh values are sent
    assert "date" not in headers and "signature" not in headers
    verify_post(headers, alice[1])


def test_signing_requires_a_timezone_aware_now(alice: tuple[PrivateKey, PublicKey]) -> None:
    # Given a naive datetime
    # Then signing refuses it rather than guess the zone
    with pytest.raises(ValueError):
        sign_request(
            "GET", INBOX, {}, None, key_id=KEY_ID, private_key=alice[0], now=datetime(2025, 1, 1)
        )


# --- failure modes ---------------------------------------------------------------------


def test_unsigned_request_raises_missing_signature() -> None:
    # Given a request without any signature header
    # Then parsing says it is not signed
    with pytest.raises(MissingSignature):
        parse_request_signature("POST", "/inbox", {"Host": HOST}, BODY)


def test_garbled_signature_header_raises_malformed_signature() -> None:
    # Given a Signature header that is not a parameter list
    headers = {"Host": HOST, "Signature": "this is not a signature"}
    # Then parsing raises MalformedSignature
    with pytest.raises(MalformedSignature):
        parse_request_signature("GET", "/users/bakery", headers, b"")


def test_signature_without_key_id_raises_malformed_signature() -> None:
    # Given a Signature header with no keyId
    headers = {"Host": HOST, "Signature": 'headers="date",signature="AAAA"'}
    # Then parsing raises MalformedSignature
    with pytest.raises(MalformedSignature):
        parse_request_signature("GET", "/users/bakery", headers, b"")


def test_signature_that_is_not_base64_raises_bad_base64(
    alice: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a signed request whose signature value is not base64
    headers = signed_post(alice[0])
    start = headers["Signature"].index('signature="') + len('signature="')
    headers["Signature"] = headers["Signature"][:start] + "%%%not-base64%%%" + '"'
    # Then parsing raises BadBase64
    with pytest.raises(BadBase64):
        parse_request_signature("POST", "/users/bakery/inbox", headers, BODY)


def test_unknown_algorithm_raises_unsupported_algorithm(
    alice: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a signature claiming an algorithm we do not verify
    headers = signed_post(alice[0])
    headers["Signature"] = headers["Signature"].replace("rsa-sha256", "rsa-sha512")
    # Then parsing raises UnsupportedAlgorithm before any key is fetched
    with pytest.raises(UnsupportedAlgorithm):
        parse_request_signature("POST", "/users/bakery/inbox", headers, BODY)


def test_header_named_as_signed_but_absent_raises_missing_signed_header(
    alice: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a GET whose signature covers an Accept header the request does not carry
    date = http_date(NOW)
    signed = [
        ("(request-target)", "get /users/bakery"),
        ("host", HOST),
        ("date", date),
        ("accept", AP_JSON),
    ]
    headers = {"Host": HOST, "Date": date, "Signature": peer_signature(alice[0], signed)}
    # Then parsing raises MissingSignedHeader
    with pytest.raises(MissingSignedHeader):
        parse_request_signature("GET", "/users/bakery", headers, b"")


def test_get_that_does_not_sign_host_raises_missing_signed_header(
    alice: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a GET signed over (request-target) and date only
    date = http_date(NOW)
    signed = [("(request-target)", "get /users/bakery"), ("date", date)]
    headers = {"Host": HOST, "Date": date, "Signature": peer_signature(alice[0], signed)}
    # Then host must have been signed
    with pytest.raises(MissingSignedHeader):
        parse_request_signature("GET", "/users/bakery", headers, b"")


def test_signature_without_date_or_created_raises_missing_signed_header(
    alice: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a GET that signs neither date nor (created)
    signed = [("(request-target)", "get /users/bakery"), ("host", HOST)]
    headers = {"Host": HOST, "Signature": peer_signature(alice[0], signed)}
    # Then there is no signed time, and parsing refuses it
    with pytest.raises(MissingSignedHeader):
        parse_request_signature("GET", "/users/bakery", headers, b"")


def test_post_that_does_not_sign_its_digest_raises_missing_signed_header(
    alice: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a POST with a correct Digest header that the signature leaves out
    date = http_date(NOW)
    signed = [("(request-target)", "post /users/bakery/inbox"), ("host", HOST), ("date", date)]
    headers = {
        "Host": HOST,
        "Date": date,
        "Digest": sha256_digest(BODY),
        "Signature": peer_signature(alice[0], signed),
    }
    # Then the body is not covered, and parsing refuses it
    with pytest.raises(MissingSignedHeader):
        parse_request_signature("POST", "/users/bakery/inbox", headers, BODY)


def test_tampered_body_raises_digest_mismatch(alice: tuple[PrivateKey, PublicKey]) -> None:
    # Given a signed POST whose body was changed on the way
    headers = signed_post(alice[0])
    tampered = BODY.replace(b"Follow", b"Block")
    # Then the digest no longer matches, and the message names no body content
    with pytest.raises(DigestMismatch) as caught:
        parse_request_signature("POST", "/users/bakery/inbox", headers, tampered)
    assert "Block" not in str(caught.value)


def test_digest_listing_sha512_must_match_too(alice: tuple[PrivateKey, PublicKey]) -> None:
    # Given a Digest header with a right SHA-256 and a wrong SHA-512 value
    date = http_date(NOW)
    wrong_512 = base64.b64encode(hashlib.sha512(b"other").digest()).decode()
    digest = f"{sha256_digest(BODY)},SHA-512={wrong_512}"
    signed = [
        ("(request-target)", "post /users/bakery/inbox"),
        ("host", HOST),
        ("date", date),
        ("digest", digest),
    ]
    headers = {
        "Host": HOST,
        "Date": date,
        "Digest": digest,
        "Signature": peer_signature(alice[0], signed),
    }
    # Then every supported digest must match: DigestMismatch
    with pytest.raises(DigestMismatch):
        parse_request_signature("POST", "/users/bakery/inbox", headers, BODY)


def test_sha512_digest_alone_is_accepted(alice: tuple[PrivateKey, PublicKey]) -> None:
    # Given a POST whose Digest is SHA-512 only
    date = http_date(NOW)
    digest = "SHA-512=" + base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    signed = [
        ("(request-target)", "post /users/bakery/inbox"),
        ("host", HOST),
        ("date", date),
        ("digest", digest),
    ]
    headers = {
        "Host": HOST,
        "Date": date,
        "Digest": digest,
        "Signature": peer_signature(alice[0], signed),
    }
    # Then it verifies
    verify_post(headers, alice[1])


def test_post_without_digest_raises_missing_digest(alice: tuple[PrivateKey, PublicKey]) -> None:
    # Given a signed POST from which the Digest header was dropped
    headers = signed_post(alice[0])
    del headers["Digest"]
    # Then parsing raises MissingDigest
    with pytest.raises(MissingDigest):
        parse_request_signature("POST", "/users/bakery/inbox", headers, BODY)


def test_digest_of_unknown_algorithm_only_raises_missing_digest(
    alice: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a POST whose only digest is MD5
    headers = signed_post(alice[0])
    headers["Digest"] = "MD5=" + base64.b64encode(hashlib.md5(BODY).digest()).decode()
    # Then there is no digest we can check
    with pytest.raises(MissingDigest):
        parse_request_signature("POST", "/users/bakery/inbox", headers, BODY)


def test_request_signed_two_hours_ago_raises_date_too_old(
    alice: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a POST signed two hours before now
    headers = signed_post(alice[0], now=NOW - timedelta(hours=2))
    sig = parse_request_signature("POST", "/users/bakery/inbox", headers, BODY)
    # Then verification rejects it as too old
    with pytest.raises(DateTooOld):
        verify_request_signature(sig, alice[1], now=NOW)


def test_request_signed_fifty_minutes_ago_is_accepted(alice: tuple[PrivateKey, PublicKey]) -> None:
    # Given a POST signed 50 minutes ago (a slow queue, as Mastodon tolerates)
    headers = signed_post(alice[0], now=NOW - timedelta(minutes=50))
    sig = parse_request_signature("POST", "/users/bakery/inbox", headers, BODY)
    # Then it verifies
    verify_request_signature(sig, alice[1], now=NOW)


def test_request_dated_two_hours_ahead_raises_date_in_future(
    alice: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a POST whose signer's clock runs two hours fast
    headers = signed_post(alice[0], now=NOW + timedelta(hours=2))
    sig = parse_request_signature("POST", "/users/bakery/inbox", headers, BODY)
    # Then verification rejects it as from the future
    with pytest.raises(DateInFuture):
        verify_request_signature(sig, alice[1], now=NOW)


def test_stale_request_is_rejected_before_any_key_is_fetched(
    alice: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a stale signed POST
    headers = signed_post(alice[0], now=NOW - timedelta(days=1))
    sig = parse_request_signature("POST", "/users/bakery/inbox", headers, BODY)
    # Then the key-free precheck already refuses it
    with pytest.raises(DateTooOld):
        precheck_request_signature(sig, now=NOW)


def test_unparseable_date_raises_malformed_date(alice: tuple[PrivateKey, PublicKey]) -> None:
    # Given a GET whose signed Date is not an HTTP date
    signed = [("(request-target)", "get /users/bakery"), ("host", HOST), ("date", "yesterday")]
    headers = {"Host": HOST, "Date": "yesterday", "Signature": peer_signature(alice[0], signed)}
    # Then parsing raises MalformedDate
    with pytest.raises(MalformedDate):
        parse_request_signature("GET", "/users/bakery", headers, b"")


def test_request_for_another_host_raises_host_mismatch(
    alice: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a POST signed for another server and replayed to us
    headers = sign_request(
        "POST",
        "https://elsewhere.example/users/bakery/inbox",
        {"Content-Type": AP_JSON},
        BODY,
        key_id=KEY_ID,
        private_key=alice[0],
        now=NOW,
    )
    sig = parse_request_signature("POST", "/users/bakery/inbox", headers, BODY)
    # Then verification with our host raises HostMismatch
    with pytest.raises(HostMismatch):
        verify_request_signature(sig, alice[1], now=NOW, expected_host=HOST)


def test_signature_checked_with_another_actors_key_raises_invalid_signature(
    alice: tuple[PrivateKey, PublicKey], mallory: tuple[PrivateKey, PublicKey]
) -> None:
    # Given a POST signed by Mallory but claiming Alice's keyId
    headers = signed_post(mallory[0])
    sig = parse_request_signature("POST", "/users/bakery/inbox", headers, BODY)
    # Then Alice's key does not verify it
    with pytest.raises(InvalidSignature):
        verify_request_signature(sig, alice[1], now=NOW)


def test_request_replayed_to_another_path_raises_invalid_signature(
    alice: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a POST signed for the bakery's inbox, replayed to the shared inbox
    headers = signed_post(alice[0])
    sig = parse_request_signature("POST", "/inbox", headers, BODY)
    # Then the request target no longer matches
    with pytest.raises(InvalidSignature):
        verify_request_signature(sig, alice[1], now=NOW)


def test_rsa_sha256_declared_with_an_ed25519_key_raises_invalid_signature(
    ed_alice: tuple[PrivateKey, PublicKey],
) -> None:
    # Given an Ed25519 signature that claims to be rsa-sha256
    headers = signed_post(ed_alice[0])
    headers["Signature"] = headers["Signature"].replace("hs2019", "rsa-sha256")
    sig = parse_request_signature("POST", "/users/bakery/inbox", headers, BODY)
    # Then the declared algorithm does not fit the key, and nothing verifies
    with pytest.raises(InvalidSignature):
        verify_request_signature(sig, ed_alice[1], now=NOW)


def test_every_failure_is_a_signature_error() -> None:
    # Then callers can catch the whole family at once and answer 401
    for error in (MissingSignature, MalformedDate, DigestMismatch, InvalidSignature, HostMismatch):
        assert issubclass(error, SignatureError)


def test_verifying_requires_a_timezone_aware_now(alice: tuple[PrivateKey, PublicKey]) -> None:
    # Given a parsed signature
    sig = parse_request_signature("POST", "/users/bakery/inbox", signed_post(alice[0]), BODY)
    # Then a naive clock is a programming error
    with pytest.raises(ValueError):
        verify_request_signature(sig, alice[1], now=datetime(2025, 11, 5, 12))


def test_parsed_signature_repr_shows_no_signature_bytes(
    alice: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a parsed signature
    sig = parse_request_signature("POST", "/users/bakery/inbox", signed_post(alice[0]), BODY)
    # Then its repr, which may reach a log, holds neither signature nor signed strings
    assert "signature=" not in repr(sig)
    assert "messages" not in repr(sig)


# --- what peers send -------------------------------------------------------------------


def test_query_stripped_request_target_is_accepted(alice: tuple[PrivateKey, PublicKey]) -> None:
    # Given a GET with a query whose signer signed the path without it (Mastodon's quirk)
    date = http_date(NOW)
    signed = [("(request-target)", "get /users/bakery/outbox"), ("host", HOST), ("date", date)]
    headers = {"Host": HOST, "Date": date, "Signature": peer_signature(alice[0], signed)}
    # When it is verified as received, with the query
    sig = parse_request_signature("GET", "/users/bakery/outbox?page=true", headers, b"")
    # Then the retry without the query verifies it
    verify_request_signature(sig, alice[1], now=NOW)


def test_authorization_signature_header_is_accepted(alice: tuple[PrivateKey, PublicKey]) -> None:
    # Given a request that carries its signature as "Authorization: Signature ..."
    headers = signed_post(alice[0])
    headers["Authorization"] = "Signature " + headers.pop("Signature")
    # Then it verifies like a Signature header
    verify_post(headers, alice[1])


def test_created_and_expires_pseudo_headers_verify(alice: tuple[PrivateKey, PublicKey]) -> None:
    # Given a GET signed over (created) and (expires) instead of a Date header
    created, expires = int(NOW.timestamp()) - 30, int(NOW.timestamp()) + 270
    signed = [
        ("(request-target)", "get /users/bakery"),
        ("(created)", str(created)),
        ("(expires)", str(expires)),
        ("host", HOST),
    ]
    extra = f"created={created},expires={expires},"
    headers = {
        "Host": HOST,
        "Signature": peer_signature(alice[0], signed, extra=extra, algorithm="hs2019"),
    }
    # When it is verified
    sig = parse_request_signature("GET", "/users/bakery", headers, b"")
    verify_request_signature(sig, alice[1], now=NOW)
    # Then the signing time came from (created)
    assert sig.created == NOW - timedelta(seconds=30)


def test_expired_signature_raises_date_too_old(alice: tuple[PrivateKey, PublicKey]) -> None:
    # Given a signature created 70 minutes ago that expired 65 minutes ago
    created, expires = int(NOW.timestamp()) - 4200, int(NOW.timestamp()) - 3900
    signed = [
        ("(request-target)", "get /users/bakery"),
        ("(created)", str(created)),
        ("(expires)", str(expires)),
        ("host", HOST),
    ]
    extra = f"created={created},expires={expires},"
    headers = {"Host": HOST, "Signature": peer_signature(alice[0], signed, extra=extra)}
    sig = parse_request_signature("GET", "/users/bakery", headers, b"")
    # Then verification rejects it
    with pytest.raises(DateTooOld):
        verify_request_signature(sig, alice[1], now=NOW)


@pytest.mark.parametrize(
    "order",
    [
        pytest.param("host date digest content-type (request-target)", id="mastodon-4.4+"),
        pytest.param("(request-target) host date digest content-type", id="mastodon-4.3"),
        pytest.param("(request-target) content-type date digest host", id="sorted"),
    ],
)
def test_signed_headers_are_verified_in_the_order_given(
    alice: tuple[PrivateKey, PublicKey], order: str
) -> None:
    # Given a POST whose headers= lists the signed headers in a peer's own order
    date = http_date(NOW)
    values = {
        "(request-target)": "post /users/bakery/inbox",
        "host": HOST,
        "date": date,
        "digest": sha256_digest(BODY),
        "content-type": AP_JSON,
    }
    signed = [(name, values[name]) for name in order.split()]
    headers = {
        "Host": HOST,
        "Date": date,
        "Digest": values["digest"],
        "Content-Type": AP_JSON,
        "Signature": peer_signature(alice[0], signed),
    }
    # When it is verified
    sig = verify_post(headers, alice[1])
    # Then the order was followed
    assert sig.covered == tuple(order.split())


def test_post_shaped_like_mastodon_4_5_verifies(alice: tuple[PrivateKey, PublicKey]) -> None:
    # Given a delivery built as Mastodon 4.5 builds it: User-Agent and Accept-Encoding set
    # but unsigned, the rest signed in the order host date digest content-type
    # (request-target), as a list of header lines the way ASGI hands them over
    date = http_date(NOW)
    digest = sha256_digest(BODY)
    signed = [
        ("host", HOST),
        ("date", date),
        ("digest", digest),
        ("content-type", AP_JSON),
        ("(request-target)", "post /users/bakery/inbox"),
    ]
    headers = [
        ("user-agent", "http.rb/5.3.1 (Mastodon/4.5.0; +https://mastodon.example/)"),
        ("host", HOST),
        ("date", date),
        ("accept-encoding", "gzip"),
        ("digest", digest),
        ("content-type", AP_JSON),
        ("signature", peer_signature(alice[0], signed)),
        ("content-length", str(len(BODY))),
    ]
    # When it is parsed and verified
    sig = parse_request_signature("POST", "/users/bakery/inbox", headers, BODY)
    verify_request_signature(sig, alice[1], now=NOW, expected_host=HOST)
    # Then it is Alice's cavage signature
    assert (sig.scheme, sig.key_id, sig.algorithm) == ("cavage", KEY_ID, "rsa-sha256")


def test_get_shaped_like_mastodon_4_5_instance_actor_verifies(
    alice: tuple[PrivateKey, PublicKey],
) -> None:
    # Given an actor fetch signed by Mastodon's instance actor over host date accept
    # (request-target)
    date = http_date(NOW)
    accept = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    signed = [
        ("host", HOST),
        ("date", date),
        ("accept", accept),
        ("(request-target)", "get /users/bakery"),
    ]
    signature = peer_signature(alice[0], signed, key_id="https://mastodon.example/actor#main-key")
    headers = [
        ("user-agent", "http.rb/5.3.1 (Mastodon/4.5.0; +https://mastodon.example/)"),
        ("host", HOST),
        ("date", date),
        ("accept-encoding", "gzip"),
        ("accept", accept),
        ("signature", signature),
    ]
    # When it is verified
    sig = parse_request_signature("GET", "/users/bakery", headers, b"")
    verify_request_signature(sig, alice[1], now=NOW, expected_host=HOST)
    # Then the instance actor's key id is what the caller must fetch
    assert sig.key_id == "https://mastodon.example/actor#main-key"


def test_repeated_header_lines_are_joined_before_verifying(
    alice: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a signed Accept that arrived as two header lines
    date = http_date(NOW)
    signed = [
        ("(request-target)", "get /users/bakery"),
        ("host", HOST),
        ("date", date),
        ("accept", f"{AP_JSON}, text/html"),
    ]
    headers = [
        ("host", HOST),
        ("date", date),
        ("accept", AP_JSON),
        ("accept", "text/html"),
        ("signature", peer_signature(alice[0], signed)),
    ]
    # Then the lines are joined with ", " as the signer saw them
    sig = parse_request_signature("GET", "/users/bakery", headers, b"")
    verify_request_signature(sig, alice[1], now=NOW)


# --- Mastodon spec fixtures ------------------------------------------------------------


def test_mastodon_spec_signed_get_verifies(bob_public_key: PublicKey) -> None:
    # Given Mastodon's own signed GET fixture
    headers = {
        "Host": MASTODON_SPEC_HOST,
        "Date": MASTODON_SPEC_DATE,
        "Signature": mastodon_spec_signature("date host (request-target)", MASTODON_SPEC_GET_SIG),
    }
    # When it is verified at the fixture's time
    sig = parse_request_signature("GET", "/activitypub/success", headers, b"")
    verify_request_signature(sig, bob_public_key, now=MASTODON_SPEC_NOW)
    # Then it is Bob's
    assert sig.key_id == BOB_KEY_ID


def test_mastodon_spec_signed_get_with_query_verifies(bob_public_key: PublicKey) -> None:
    # Given Mastodon's signed GET whose (request-target) includes ?foo=42
    signature = mastodon_spec_signature("date host (request-target)", MASTODON_SPEC_GET_QUERY_SIG)
    headers = {"Host": MASTODON_SPEC_HOST, "Date": MASTODON_SPEC_DATE, "Signature": signature}
    # Then it verifies with the query
    sig = parse_request_signature("GET", "/activitypub/success?foo=42", headers, b"")
    verify_request_signature(sig, bob_public_key, now=MASTODON_SPEC_NOW)


def test_mastodon_spec_query_quirk_verifies(bob_public_key: PublicKey) -> None:
    # Given Mastodon's fixture signed without the query, received with ?foo=42
    signature = mastodon_spec_signature("date host (request-target)", MASTODON_SPEC_GET_SIG)
    headers = {"Host": MASTODON_SPEC_HOST, "Date": MASTODON_SPEC_DATE, "Signature": signature}
    # Then the query-less retry verifies it
    sig = parse_request_signature("GET", "/activitypub/success?foo=42", headers, b"")
    verify_request_signature(sig, bob_public_key, now=MASTODON_SPEC_NOW)


def test_mastodon_spec_mismatching_query_raises_invalid_signature(
    bob_public_key: PublicKey,
) -> None:
    # Given Mastodon's fixture signed for ?foo=42, received with ?foo=43
    signature = mastodon_spec_signature("date host (request-target)", MASTODON_SPEC_GET_QUERY_SIG)
    headers = {"Host": MASTODON_SPEC_HOST, "Date": MASTODON_SPEC_DATE, "Signature": signature}
    sig = parse_request_signature("GET", "/activitypub/success?foo=43", headers, b"")
    # Then neither the full nor the stripped target verifies
    with pytest.raises(InvalidSignature):
        verify_request_signature(sig, bob_public_key, now=MASTODON_SPEC_NOW)


def test_mastodon_spec_signed_post_verifies(bob_public_key: PublicKey) -> None:
    # Given Mastodon's signed POST fixture (headers="host date digest (request-target)")
    signature = mastodon_spec_signature("host date digest (request-target)", MASTODON_SPEC_POST_SIG)
    headers = {
        "Host": MASTODON_SPEC_HOST,
        "Date": MASTODON_SPEC_DATE,
        "Digest": MASTODON_SPEC_DIGEST,
        "Signature": signature,
    }
    # Then it verifies against the raw body
    sig = parse_request_signature("POST", "/activitypub/success", headers, MASTODON_SPEC_BODY)
    verify_request_signature(sig, bob_public_key, now=MASTODON_SPEC_NOW)


def test_mastodon_spec_tampered_post_raises_digest_mismatch() -> None:
    # Given Mastodon's signed POST fixture whose body became "Hello world!"
    signature = mastodon_spec_signature("host date digest (request-target)", MASTODON_SPEC_POST_SIG)
    headers = {
        "Host": MASTODON_SPEC_HOST,
        "Date": MASTODON_SPEC_DATE,
        "Digest": MASTODON_SPEC_DIGEST,
        "Signature": signature,
    }
    # Then parsing raises DigestMismatch
    with pytest.raises(DigestMismatch):
        parse_request_signature("POST", "/activitypub/success", headers, b"Hello world!")


def test_mastodon_spec_post_with_unsigned_digest_raises_missing_signed_header() -> None:
    # Given Mastodon's POST fixture that signs "host date (request-target)" only
    signature = mastodon_spec_signature(
        "host date (request-target)", MASTODON_SPEC_POST_DIGEST_UNSIGNED_SIG
    )
    headers = {
        "Host": MASTODON_SPEC_HOST,
        "Date": MASTODON_SPEC_DATE,
        "Digest": MASTODON_SPEC_DIGEST,
        "Signature": signature,
    }
    # Then the digest must be signed
    with pytest.raises(MissingSignedHeader):
        parse_request_signature("POST", "/activitypub/success", headers, MASTODON_SPEC_BODY)


def test_mastodon_spec_get_checked_a_day_later_raises_date_too_old(
    bob_public_key: PublicKey,
) -> None:
    # Given Mastodon's signed GET fixture
    signature = mastodon_spec_signature("date host (request-target)", MASTODON_SPEC_GET_SIG)
    headers = {"Host": MASTODON_SPEC_HOST, "Date": MASTODON_SPEC_DATE, "Signature": signature}
    sig = parse_request_signature("GET", "/activitypub/success", headers, b"")
    # When it is checked a day later
    # Then it is too old
    with pytest.raises(DateTooOld):
        verify_request_signature(sig, bob_public_key, now=MASTODON_SPEC_NOW + timedelta(days=1))
