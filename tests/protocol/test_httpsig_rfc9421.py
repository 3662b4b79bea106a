"""RFC 9421 HTTP Message Signatures with RFC 9530 Content-Digest.

Requests "as Fedify sends them" are built here by hand (signature base assembled as a
string, signed with cryptography), and what we send is checked the way Fedify checks it,
so our signer and verifier cannot agree on a private mistake. The "Mastodon spec"
fixtures are the RFC 9421 requests from Mastodon's signature_verification_spec.rb.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from http_sf.compat import Dictionary, InnerList

from fedi_town.protocol.httpsig import (
    DateInFuture,
    DateTooOld,
    DigestMismatch,
    InvalidSignature,
    MalformedSignature,
    MissingDigest,
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
from tests.protocol.test_httpsig import (
    BOB_KEY_ID,
    BOB_PUBLIC_PEM,
    MASTODON_SPEC_BODY,
    MASTODON_SPEC_HOST,
    MASTODON_SPEC_NOW,
)

NOW = datetime(2025, 11, 5, 12, 0, 0, tzinfo=UTC)
HOST = "town.example"
ORIGIN = f"https://{HOST}"
INBOX_PATH = "/users/bakery/inbox"
INBOX = ORIGIN + INBOX_PATH
KEY_ID = "https://fedify.example/users/carol#main-key"
AP_JSON = "application/activity+json"
BODY = b'{"@context":"https://www.w3.org/ns/activitystreams","type":"Like","id":"https://fedify.example/likes/1"}'

MASTODON_SPEC_GET_INPUT = f'sig1=("@method" "@target-uri");created=1703066400;keyid="{BOB_KEY_ID}"'
MASTODON_SPEC_GET_SIG = (
    "sig1=:WfM6q/qBqhUyqPUDt9metjadJGtLLpmMTBzk/t+R3byKe4/TGAXC6vBB/M6NsD5qv8GCmQGtisCMQxJQO0IGO"
    "DGzi+Jv+eqDJ50agMVXNV6nUOzY44c4/XTPoI98qyx1oEMa4Hefy3vSYKq96iDVAc+RDLCMTeGP3wn9wizjD1SNmU0RZ"
    "I1bTB+eCkywMP9mM5zXzUOYF+Qkuf+WdEpPR1XUGPlnqfdvPalcKVfaI/VThBjI91D/lmUGoa69x4EBEHM+aJmW6086e"
    "7/dVh+FndKkdGfXslZXFZKi2flTGQZgEWLn948SqAaJQROkJg8B14Sb1NONS1qZBhK3Mum8Pg==:"
)
MASTODON_SPEC_GET_QUERY_SIG = (
    "sig1=:JbC0oqoruKkT5p3bTASZZbHQP+EwUmT6+vBjEBw/KSkLPn+tKjEj0HHIMLA2Rw3bshZyzmsVD8+2UkPcwZYnE3"
    "gzuX0r0/gC8v4dSBfwGe7EBwpekB2xU8yHW4jawxiof2LmErvEocqcnI2uiA4IlJ09uz2Os/ARmf60lj+0Qf1qqzFeM7"
    "KoXJ331BUGMJ4cQ7iS4aO9RG4P8EJ+upe7Ik1LB/q9CZmk/6MFaB2lIemV0pcg2MwctpzMw9GWN1wL10hGxx+BPT2WCX"
    "dlPQmetVSoJ89WVV8S/4lQaCA1IucYUVDvBEFgMM//VJBuw7kg8wSTeAg9oKzbR2otLqv8Lg==:"
)
MASTODON_SPEC_POST_INPUT = (
    f'sig1=("@method" "@target-uri" "content-digest");created=1703066400;keyid="{BOB_KEY_ID}"'
)
MASTODON_SPEC_POST_SIG = (
    "sig1=:c4jGY/PnOV4CwyvNnAmY6NLX0sf6EtbKu7kYseNARRZaq128PrP0GNQ4cd3XsX9cbMfJMw1ntI4zuEC81ncW8g+"
    "90OHP02bX0LkT57RweUtN4CSA01hRqSVe/MW32tjGixCiItvWqjNHoIZnZApu1bd+M3zMR+VCEue4/8a0D2eRrvfQxJUU"
    "BXZR1ZTRFlf1LNFDW3U7cuTbAKYr2zWVr7on+h2vA+vzEND9WE8z1SHd6SIFFgP0QRqrCXYx+vsTs3aLusTsamRWissoy"
    "cJGexb64mI9iqiD8SD+uN1xk6iRU3nkUmhUquugjlOFyjxbbLo5ZnYjsECMt/BW+Catxw==:"
)
MASTODON_SPEC_POST_UNSIGNED_DIGEST_SIG = (
    "sig1=:Rhc5CzxdUYCzwo3V7y5wjEIN4o2XD90Bhf7lTDg2TIlp33ygl6ufwZpQ156fLJ0aUCkJ4+9KQsHBIkxF4PZJn8d"
    "/ZIfz3dpHJAVyMErAToSw+36V61mbnnnJxIPZPvmTT3zYCL7HPv+3GItOA4SqBhjJZRRJwOIW6NmmyrmSpc8xF9klnkey"
    "GbYYRusaG7w6BDzM7ECCttxk120v1rHkGyqVON9fQADqs2LNqPa9WM9kWKiC5LhnZSYgoojhPmhniiA4NpgprncEBo4d"
    "OIC8CJihafWVSf+CZp3eogb/hn3Yd0//Pz0ta/lVtLGdb7t9f0rQFiqZfwIcCCz51nDMKw==:"
)
MASTODON_SPEC_CONTENT_DIGEST = "sha-256=:ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw=:"


@pytest.fixture(scope="module")
def carol() -> tuple[PrivateKey, PublicKey]:
    private_pem, public_pem = generate_rsa_keypair()
    return load_private_key(private_pem), load_public_key(public_pem)


@pytest.fixture(scope="module")
def mallory() -> tuple[PrivateKey, PublicKey]:
    private_pem, public_pem = generate_rsa_keypair()
    return load_private_key(private_pem), load_public_key(public_pem)


@pytest.fixture(scope="module")
def ed_carol() -> tuple[PrivateKey, PublicKey]:
    private_pem, public_pem = generate_ed25519_keypair()
    return load_private_key(private_pem), load_public_key(public_pem)


@pytest.fixture(scope="module")
def bob_public_key() -> PublicKey:
    return load_public_key(BOB_PUBLIC_PEM)


def content_digest(body: bytes) -> str:
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def fedify_request(
    private_key: PrivateKey,
    method: str,
    url: str,
    body: bytes | None,
    *,
    now: datetime = NOW,
    params: str | None = None,
    digest: str | None = None,
) -> dict[str, str]:
    """Headers as Fedify 2.x signs them (sig/http.ts signRequestRfc9421), built by hand:
    components @method @target-uri @authority host date [content-digest], parameters in
    the order alg, keyid, created."""
    parts = urlsplit(url)
    headers = {
        "Accept": AP_JSON,
        "Content-Type": AP_JSON,
        "Host": parts.netloc,
        "Date": format_datetime(now, usegmt=True),
    }
    values = {
        "@method": method,
        "@target-uri": url,
        "@authority": parts.netloc,
        "host": headers["Host"],
        "date": headers["Date"],
    }
    if body is not None:
        headers["Content-Digest"] = values["content-digest"] = digest or content_digest(body)
    names = " ".join(f'"{name}"' for name in values)
    params = params or f'alg="rsa-v1_5-sha256";keyid="{KEY_ID}";created={int(now.timestamp())}'
    lines = [f'"{name}": {value}' for name, value in values.items()]
    lines.append(f'"@signature-params": ({names});{params}')
    raw = private_key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[call-arg]
    headers["Signature-Input"] = f"sig1=({names});{params}"
    headers["Signature"] = f"sig1=:{base64.b64encode(raw).decode()}:"
    return headers


def verify_like_fedify(
    headers: dict[str, str], method: str, url: str, public_key: PublicKey
) -> None:
    """Check our output the way Fedify's verifyRequestRfc9421 does: rebuild the base from
    the parsed Signature-Input with url.href / url.host / header values, then verify."""
    inputs, signatures = Dictionary(), Dictionary()
    inputs.parse(headers["Signature-Input"].encode())
    signatures.parse(headers["Signature"].encode())
    member = inputs["sig1"]
    assert isinstance(member, InnerList)
    parts = urlsplit(url)
    derived = {"@method": method, "@target-uri": url, "@authority": parts.netloc}
    lowered = {name.lower(): value for name, value in headers.items()}
    lines = [f'"{item.value}": {derived.get(item.value) or lowered[item.value]}' for item in member]
    lines.append(f'"@signature-params": {member}')
    base = "\n".join(lines).encode()
    signature = signatures["sig1"].value
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(signature, base, padding.PKCS1v15(), hashes.SHA256())
    else:
        public_key.verify(signature, base)


def sign_9421(
    private_key: PrivateKey, method: str, body: bytes | None, **kwargs: object
) -> dict[str, str]:
    return sign_request(
        method,
        INBOX,
        {"Content-Type": AP_JSON} if body is not None else {"Accept": AP_JSON},
        body,
        key_id=KEY_ID,
        private_key=private_key,
        now=NOW,
        scheme="rfc9421",
        **kwargs,  # type: ignore[arg-type]
    )


def parse_and_verify(
    method: str, headers: dict[str, str], body: bytes, public_key: PublicKey
) -> SignatureInput:
    sig = parse_request_signature(method, INBOX_PATH, headers, body, origin=ORIGIN)
    verify_request_signature(sig, public_key, now=NOW, expected_host=HOST)
    return sig


# --- round trips -----------------------------------------------------------------------


def test_rsa_post_round_trip(carol: tuple[PrivateKey, PublicKey]) -> None:
    # Given a POST signed with RFC 9421 and an RSA key
    headers = sign_9421(carol[0], "POST", BODY)
    # When it is parsed and verified
    sig = parse_and_verify("POST", headers, BODY, carol[1])
    # Then it covered method, target, authority, digest and type, labelled sig1
    assert sig.scheme == "rfc9421"
    assert sig.label == "sig1"
    assert sig.algorithm == "rsa-v1_5-sha256"
    assert sig.covered == ("@method", "@target-uri", "@authority", "content-digest", "content-type")
    assert sig.created == NOW


def test_rsa_get_round_trip(carol: tuple[PrivateKey, PublicKey]) -> None:
    # Given a GET signed with RFC 9421
    headers = sign_9421(carol[0], "GET", None)
    # When it is verified
    sig = parse_and_verify("GET", headers, b"", carol[1])
    # Then it covered method, target URI and authority, and carries no digest
    assert sig.covered == ("@method", "@target-uri", "@authority")
    assert "Content-Digest" not in headers


@pytest.mark.parametrize("method,body", [("GET", None), ("POST", BODY)])
def test_ed25519_round_trip(
    ed_carol: tuple[PrivateKey, PublicKey], method: str, body: bytes | None
) -> None:
    # Given a request signed with an Ed25519 key
    headers = sign_9421(ed_carol[0], method, body)
    # When it is verified
    sig = parse_and_verify(method, headers, body or b"", ed_carol[1])
    # Then the algorithm was ed25519
    assert sig.algorithm == "ed25519"


def test_rsa_pss_round_trip(carol: tuple[PrivateKey, PublicKey]) -> None:
    # Given a POST signed with RSA-PSS SHA-512
    headers = sign_9421(carol[0], "POST", BODY, algorithm="rsa-pss-sha512")
    # When it is verified
    sig = parse_and_verify("POST", headers, BODY, carol[1])
    # Then the algorithm was rsa-pss-sha512
    assert sig.algorithm == "rsa-pss-sha512"


def test_signed_post_headers_have_the_shape_fedify_expects(
    carol: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a POST signed with RFC 9421
    headers = sign_9421(carol[0], "POST", BODY)
    # Then Host, Date, Content-Digest, Signature-Input and Signature are set as Fedify reads them
    created = int(NOW.timestamp())
    assert headers["Host"] == HOST
    assert headers["Date"] == "Wed, 05 Nov 2025 12:00:00 GMT"
    assert headers["Content-Digest"] == content_digest(BODY)
    assert headers["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "@authority" "content-digest" "content-type")'
        f';created={created};keyid="{KEY_ID}";alg="rsa-v1_5-sha256"'
    )
    assert headers["Signature"].startswith("sig1=:") and headers["Signature"].endswith(":")


@pytest.mark.parametrize("method,body", [("GET", None), ("POST", BODY)])
def test_what_we_send_verifies_the_way_fedify_verifies(
    carol: tuple[PrivateKey, PublicKey], method: str, body: bytes | None
) -> None:
    # Given a request we signed with RFC 9421
    headers = sign_9421(carol[0], method, body)
    # Then a base rebuilt as Fedify rebuilds it verifies with our public key
    verify_like_fedify(headers, method, INBOX, carol[1])


def test_ed25519_signature_verifies_the_way_fedify_verifies(
    ed_carol: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a POST we signed with Ed25519 (FEP-521a keys)
    headers = sign_9421(ed_carol[0], "POST", BODY)
    # Then Fedify's base construction verifies it too
    verify_like_fedify(headers, "POST", INBOX, ed_carol[1])


# --- what peers send -------------------------------------------------------------------


def test_post_shaped_like_fedify_verifies(carol: tuple[PrivateKey, PublicKey]) -> None:
    # Given a POST built as Fedify 2.x builds it (host and date covered, alg first)
    headers = fedify_request(carol[0], "POST", INBOX, BODY)
    # When it is verified
    sig = parse_and_verify("POST", headers, BODY, carol[1])
    # Then it is Carol's RFC 9421 signature
    assert (sig.scheme, sig.key_id, sig.algorithm) == ("rfc9421", KEY_ID, "rsa-v1_5-sha256")
    assert sig.covered == ("@method", "@target-uri", "@authority", "host", "date", "content-digest")


def test_get_shaped_like_fedify_with_a_query_verifies(carol: tuple[PrivateKey, PublicKey]) -> None:
    # Given a collection page fetch with a query, built as Fedify builds it
    url = f"{ORIGIN}/users/bakery/outbox?page=2"
    headers = fedify_request(carol[0], "GET", url, None)
    # When it is verified with the target as received
    sig = parse_request_signature("GET", "/users/bakery/outbox?page=2", headers, b"", origin=ORIGIN)
    # Then it verifies
    verify_request_signature(sig, carol[1], now=NOW, expected_host=HOST)


ACTOR_PATH = "/users/bakery"
KEY_URL = f"{ORIGIN}{ACTOR_PATH}#main-key"


def test_fedify_key_fetch_signed_over_the_fragment_verifies_with_the_served_fragment(
    carol: tuple[PrivateKey, PublicKey],
) -> None:
    # Given Fedify's GET of our key id, its @target-uri still carrying "#main-key"
    headers = fedify_request(carol[0], "GET", KEY_URL, None)
    assert "#main-key" not in ACTOR_PATH  # the fragment never reaches the server
    # When it is parsed with the fragment of the key id the actor's path serves
    sig = parse_request_signature(
        "GET", ACTOR_PATH, headers, b"", origin=ORIGIN, target_fragment="main-key"
    )
    # Then the plain target is tried first and the fragment one verifies
    assert len(sig.messages) == 2
    assert f"{KEY_URL}\n".encode() in sig.messages[1]
    verify_request_signature(sig, carol[1], now=NOW, expected_host=HOST)


def test_fedify_key_fetch_signed_over_the_fragment_fails_without_it(
    carol: tuple[PrivateKey, PublicKey],
) -> None:
    headers = fedify_request(carol[0], "GET", KEY_URL, None)
    sig = parse_request_signature("GET", ACTOR_PATH, headers, b"", origin=ORIGIN)
    assert len(sig.messages) == 1
    with pytest.raises(InvalidSignature):
        verify_request_signature(sig, carol[1], now=NOW, expected_host=HOST)


@pytest.mark.parametrize(
    "signed_url",
    [f"{ORIGIN}{ACTOR_PATH}#other-key", f"{ORIGIN}/users/someone-else#main-key"],
)
def test_a_fragment_signature_over_another_fragment_or_path_does_not_verify(
    carol: tuple[PrivateKey, PublicKey], signed_url: str
) -> None:
    # Given a signature over another fragment, or over another actor's key id
    headers = fedify_request(carol[0], "GET", signed_url, None)
    # When it arrives at bakery's path, which serves #main-key
    sig = parse_request_signature(
        "GET", ACTOR_PATH, headers, b"", origin=ORIGIN, target_fragment="main-key"
    )
    # Then it is refused: only the served key's fragment on this very target is accepted
    with pytest.raises(InvalidSignature):
        verify_request_signature(sig, carol[1], now=NOW, expected_host=HOST)


def test_the_plain_target_still_verifies_when_a_fragment_is_offered(
    carol: tuple[PrivateKey, PublicKey],
) -> None:
    headers = fedify_request(carol[0], "GET", f"{ORIGIN}{ACTOR_PATH}", None)
    sig = parse_request_signature(
        "GET", ACTOR_PATH, headers, b"", origin=ORIGIN, target_fragment="main-key"
    )
    verify_request_signature(sig, carol[1], now=NOW, expected_host=HOST)


def test_a_signature_over_path_only_gets_no_fragment_base(
    carol: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a signature that binds the target through @path, not @target-uri
    headers = sign_9421(carol[0], "GET", None)
    headers["Signature-Input"] = headers["Signature-Input"].replace('"@target-uri"', '"@path"')
    # Then offering a fragment adds no second base (a fragment is only in a URI)
    sig = parse_request_signature(
        "GET", INBOX_PATH, headers, b"", origin=ORIGIN, target_fragment="main-key"
    )
    assert len(sig.messages) == 1


def test_missing_alg_with_an_rsa_key_also_tries_pss(carol: tuple[PrivateKey, PublicKey]) -> None:
    # Given a signature without alg, made with RSA-PSS
    headers = sign_9421(carol[0], "POST", BODY, algorithm="rsa-pss-sha512")
    headers["Signature-Input"] = headers["Signature-Input"].replace(';alg="rsa-pss-sha512"', "")
    # The base covers the params, so sign again by hand over the alg-less parameters
    sig = parse_request_signature("POST", INBOX_PATH, headers, BODY, origin=ORIGIN)
    pss = padding.PSS(padding.MGF1(hashes.SHA512()), 64)
    raw = carol[0].sign(sig.messages[0], pss, hashes.SHA512())  # type: ignore[call-arg]
    headers["Signature"] = f"sig1=:{base64.b64encode(raw).decode()}:"
    # When it is verified
    sig = parse_request_signature("POST", INBOX_PATH, headers, BODY, origin=ORIGIN)
    verify_request_signature(sig, carol[1], now=NOW)
    # Then the algorithm was inferred from the key
    assert sig.algorithm is None


def test_rfc9421_wins_when_both_schemes_are_present(carol: tuple[PrivateKey, PublicKey]) -> None:
    # Given a request carrying an RFC 9421 signature and a stray cavage-looking header set
    headers = sign_9421(carol[0], "POST", BODY)
    headers["Authorization"] = 'Signature keyId="x",signature="AAAA"'
    # Then the RFC 9421 signature is the one parsed
    assert parse_and_verify("POST", headers, BODY, carol[1]).scheme == "rfc9421"


def test_nonce_and_tag_are_reported(carol: tuple[PrivateKey, PublicKey]) -> None:
    # Given a Fedify-shaped request whose parameters include a nonce and a tag
    created = int(NOW.timestamp())
    params = f'alg="rsa-v1_5-sha256";keyid="{KEY_ID}";created={created};nonce="n-1";tag="fedify"'
    headers = fedify_request(carol[0], "GET", INBOX, None, params=params)
    # When it is verified
    sig = parse_and_verify("GET", headers, b"", carol[1])
    # Then the caller can see the nonce (replay checks) and tag
    assert (sig.nonce, sig.tag) == ("n-1", "fedify")


def test_sha512_content_digest_next_to_an_unknown_algorithm_verifies(
    carol: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a POST whose Content-Digest holds SHA-512 and an algorithm we do not know
    sha512 = base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    digest = f"sha-512=:{sha512}:, unixsum=:AAAA:"
    headers = fedify_request(carol[0], "POST", INBOX, BODY, digest=digest)
    # Then the known digest is checked, the unknown one ignored, and the signature verifies
    parse_and_verify("POST", headers, BODY, carol[1])


# --- failure modes ---------------------------------------------------------------------


def test_tampered_body_raises_digest_mismatch(carol: tuple[PrivateKey, PublicKey]) -> None:
    # Given a signed POST whose body was changed on the way
    headers = sign_9421(carol[0], "POST", BODY)
    # Then parsing raises DigestMismatch
    with pytest.raises(DigestMismatch):
        parse_request_signature("POST", INBOX_PATH, headers, BODY + b" ", origin=ORIGIN)


def test_post_without_content_digest_raises_missing_digest(
    carol: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a signed GET-shaped signature replayed as a POST with a body
    headers = sign_9421(carol[0], "GET", None)
    # Then a body without any digest raises MissingDigest
    with pytest.raises(MissingDigest):
        parse_request_signature("POST", INBOX_PATH, headers, BODY, origin=ORIGIN)


def test_signature_without_created_raises_missing_signed_header(
    carol: tuple[PrivateKey, PublicKey],
) -> None:
    # Given Fedify-shaped parameters without created
    headers = fedify_request(carol[0], "GET", INBOX, None, params=f'keyid="{KEY_ID}"')
    # Then there is no signed time
    with pytest.raises(MissingSignedHeader):
        parse_request_signature("GET", INBOX_PATH, headers, b"", origin=ORIGIN)


def test_unknown_alg_raises_unsupported_algorithm(carol: tuple[PrivateKey, PublicKey]) -> None:
    # Given a signature declaring hmac-sha256
    params = f'alg="hmac-sha256";keyid="{KEY_ID}";created={int(NOW.timestamp())}'
    headers = fedify_request(carol[0], "GET", INBOX, None, params=params)
    # Then parsing raises UnsupportedAlgorithm
    with pytest.raises(UnsupportedAlgorithm):
        parse_request_signature("GET", INBOX_PATH, headers, b"", origin=ORIGIN)


def test_unparseable_signature_input_raises_malformed_signature() -> None:
    # Given a Signature-Input that is not a structured dictionary
    headers = {"Host": HOST, "Signature-Input": "sig1=(@method", "Signature": "sig1=:AAAA:"}
    # Then parsing raises MalformedSignature
    with pytest.raises(MalformedSignature):
        parse_request_signature("GET", INBOX_PATH, headers, b"", origin=ORIGIN)


def test_signature_input_without_signature_raises_malformed_signature(
    carol: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a request whose Signature header was dropped
    headers = sign_9421(carol[0], "GET", None)
    del headers["Signature"]
    # Then parsing raises MalformedSignature
    with pytest.raises(MalformedSignature):
        parse_request_signature("GET", INBOX_PATH, headers, b"", origin=ORIGIN)


def test_labels_that_do_not_match_raise_malformed_signature(
    carol: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a Signature labelled differently from its Signature-Input
    headers = sign_9421(carol[0], "GET", None)
    headers["Signature"] = headers["Signature"].replace("sig1=", "sig2=")
    # Then no signature can be matched to its input
    with pytest.raises(MalformedSignature):
        parse_request_signature("GET", INBOX_PATH, headers, b"", origin=ORIGIN)


def test_signature_not_covering_method_raises_missing_signed_header() -> None:
    # Given a Signature-Input that covers only the target URI
    headers = {
        "Host": HOST,
        "Signature-Input": f'sig1=("@target-uri");created={int(NOW.timestamp())};keyid="{KEY_ID}"',
        "Signature": "sig1=:AAAA:",
    }
    # Then parsing raises MissingSignedHeader
    with pytest.raises(MissingSignedHeader):
        parse_request_signature("GET", INBOX_PATH, headers, b"", origin=ORIGIN)


def test_covered_header_that_is_absent_raises_missing_signed_header(
    carol: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a Fedify-shaped GET from which the signed Date header was removed
    headers = fedify_request(carol[0], "GET", INBOX, None)
    del headers["Date"]
    # Then parsing raises MissingSignedHeader
    with pytest.raises(MissingSignedHeader):
        parse_request_signature("GET", INBOX_PATH, headers, b"", origin=ORIGIN)


def test_created_two_hours_ago_raises_date_too_old(carol: tuple[PrivateKey, PublicKey]) -> None:
    # Given a request created two hours ago
    headers = fedify_request(carol[0], "GET", INBOX, None, now=NOW - timedelta(hours=2))
    sig = parse_request_signature("GET", INBOX_PATH, headers, b"", origin=ORIGIN)
    # Then the precheck rejects it
    with pytest.raises(DateTooOld):
        precheck_request_signature(sig, now=NOW)


def test_created_two_hours_ahead_raises_date_in_future(
    carol: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a request created two hours in the future
    headers = fedify_request(carol[0], "GET", INBOX, None, now=NOW + timedelta(hours=2))
    sig = parse_request_signature("GET", INBOX_PATH, headers, b"", origin=ORIGIN)
    # Then verification rejects it
    with pytest.raises(DateInFuture):
        verify_request_signature(sig, carol[1], now=NOW)


def test_expired_signature_raises_date_too_old(carol: tuple[PrivateKey, PublicKey]) -> None:
    # Given a signature created ten minutes ago that expired 65 minutes ago (a bad signer)
    created = int(NOW.timestamp()) - 600
    params = f'alg="rsa-v1_5-sha256";keyid="{KEY_ID}";created={created};expires={created - 3300}'
    headers = fedify_request(carol[0], "GET", INBOX, None, params=params)
    sig = parse_request_signature("GET", INBOX_PATH, headers, b"", origin=ORIGIN)
    # Then verification rejects it
    with pytest.raises(DateTooOld):
        verify_request_signature(sig, carol[1], now=NOW)


def test_another_actors_key_raises_invalid_signature(
    carol: tuple[PrivateKey, PublicKey], mallory: tuple[PrivateKey, PublicKey]
) -> None:
    # Given a POST signed by Mallory under Carol's keyid
    headers = sign_9421(mallory[0], "POST", BODY)
    sig = parse_request_signature("POST", INBOX_PATH, headers, BODY, origin=ORIGIN)
    # Then Carol's key does not verify it
    with pytest.raises(InvalidSignature):
        verify_request_signature(sig, carol[1], now=NOW)


def test_declared_ed25519_with_an_rsa_key_raises_invalid_signature(
    carol: tuple[PrivateKey, PublicKey], ed_carol: tuple[PrivateKey, PublicKey]
) -> None:
    # Given an Ed25519 signature checked against an RSA key
    headers = sign_9421(ed_carol[0], "GET", None)
    sig = parse_request_signature("GET", INBOX_PATH, headers, b"", origin=ORIGIN)
    # Then nothing verifies
    with pytest.raises(InvalidSignature):
        verify_request_signature(sig, carol[1], now=NOW)


def test_request_signed_for_another_origin_raises_invalid_signature(
    carol: tuple[PrivateKey, PublicKey],
) -> None:
    # Given a request signed for https://elsewhere.example but replayed to us
    headers = fedify_request(carol[0], "GET", "https://elsewhere.example/users/bakery/inbox", None)
    headers["Host"] = HOST
    sig = parse_request_signature("GET", INBOX_PATH, headers, b"", origin=ORIGIN)
    # Then @target-uri and @authority, rebuilt from our origin, do not match
    with pytest.raises(InvalidSignature):
        verify_request_signature(sig, carol[1], now=NOW)


# --- Mastodon spec fixtures ------------------------------------------------------------


def test_mastodon_spec_get_verifies_with_the_origin_from_host(bob_public_key: PublicKey) -> None:
    # Given Mastodon's RFC 9421 GET fixture (no alg, only @method and @target-uri)
    headers = {
        "Host": MASTODON_SPEC_HOST,
        "Signature-Input": MASTODON_SPEC_GET_INPUT,
        "Signature": MASTODON_SPEC_GET_SIG,
    }
    # When it is verified without an explicit origin
    sig = parse_request_signature("GET", "/activitypub/success", headers, b"")
    verify_request_signature(sig, bob_public_key, now=MASTODON_SPEC_NOW)
    # Then https:// plus the Host header rebuilt the target URI, and the RSA key decided
    assert (sig.key_id, sig.algorithm) == (BOB_KEY_ID, None)


def test_mastodon_spec_get_with_query_verifies(bob_public_key: PublicKey) -> None:
    # Given Mastodon's RFC 9421 GET fixture for /activitypub/success?foo=42
    headers = {
        "Host": MASTODON_SPEC_HOST,
        "Signature-Input": MASTODON_SPEC_GET_INPUT,
        "Signature": MASTODON_SPEC_GET_QUERY_SIG,
    }
    # Then it verifies with the query in @target-uri
    sig = parse_request_signature(
        "GET", "/activitypub/success?foo=42", headers, b"", origin="https://www.example.com"
    )
    verify_request_signature(sig, bob_public_key, now=MASTODON_SPEC_NOW)


def test_mastodon_spec_get_on_another_path_raises_invalid_signature(
    bob_public_key: PublicKey,
) -> None:
    # Given Mastodon's RFC 9421 GET fixture received on another path
    headers = {
        "Host": MASTODON_SPEC_HOST,
        "Signature-Input": MASTODON_SPEC_GET_INPUT,
        "Signature": MASTODON_SPEC_GET_SIG,
    }
    sig = parse_request_signature("GET", "/activitypub/alternative-path", headers, b"")
    # Then it does not verify
    with pytest.raises(InvalidSignature):
        verify_request_signature(sig, bob_public_key, now=MASTODON_SPEC_NOW)


def test_mastodon_spec_post_verifies(bob_public_key: PublicKey) -> None:
    # Given Mastodon's RFC 9421 POST fixture covering content-digest
    headers = {
        "Host": MASTODON_SPEC_HOST,
        "Content-Digest": MASTODON_SPEC_CONTENT_DIGEST,
        "Signature-Input": MASTODON_SPEC_POST_INPUT,
        "Signature": MASTODON_SPEC_POST_SIG,
    }
    # Then it verifies against the raw body
    sig = parse_request_signature("POST", "/activitypub/success", headers, MASTODON_SPEC_BODY)
    verify_request_signature(sig, bob_public_key, now=MASTODON_SPEC_NOW)


def test_mastodon_spec_tampered_post_raises_digest_mismatch() -> None:
    # Given Mastodon's RFC 9421 POST fixture with the body changed to "Hello world!"
    headers = {
        "Host": MASTODON_SPEC_HOST,
        "Content-Digest": MASTODON_SPEC_CONTENT_DIGEST,
        "Signature-Input": MASTODON_SPEC_POST_INPUT,
        "Signature": MASTODON_SPEC_POST_SIG,
    }
    # Then parsing raises DigestMismatch
    with pytest.raises(DigestMismatch):
        parse_request_signature("POST", "/activitypub/success", headers, b"Hello world!")


def test_mastodon_spec_post_with_unsigned_digest_raises_missing_signed_header() -> None:
    # Given Mastodon's RFC 9421 POST fixture whose signature leaves out content-digest
    headers = {
        "Host": MASTODON_SPEC_HOST,
        "Content-Digest": MASTODON_SPEC_CONTENT_DIGEST,
        "Signature-Input": MASTODON_SPEC_GET_INPUT,
        "Signature": MASTODON_SPEC_POST_UNSIGNED_DIGEST_SIG,
    }
    # Then the digest must be covered
    with pytest.raises(MissingSignedHeader):
        parse_request_signature("POST", "/activitypub/success", headers, MASTODON_SPEC_BODY)


def test_mastodon_spec_get_checked_a_day_later_raises_date_too_old(
    bob_public_key: PublicKey,
) -> None:
    # Given Mastodon's RFC 9421 GET fixture
    headers = {
        "Host": MASTODON_SPEC_HOST,
        "Signature-Input": MASTODON_SPEC_GET_INPUT,
        "Signature": MASTODON_SPEC_GET_SIG,
    }
    sig = parse_request_signature("GET", "/activitypub/success", headers, b"")
    # When it is checked a day later
    # Then it is too old
    with pytest.raises(DateTooOld):
        verify_request_signature(sig, bob_public_key, now=MASTODON_SPEC_NOW + timedelta(days=1))
