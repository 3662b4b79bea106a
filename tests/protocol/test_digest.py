"""protocol.digest: Digest (RFC 3230) and Content-Digest (RFC 9530) of request bodies."""

from __future__ import annotations

import base64
import hashlib

import pytest

from fedi_town.protocol import digest
from fedi_town.protocol.httpsig_common import (
    BadBase64,
    DigestMismatch,
    MalformedSignature,
    MissingDigest,
    MissingSignedHeader,
)

BODY = b'{"type":"Like"}'
SHA256 = base64.b64encode(hashlib.sha256(BODY).digest()).decode()
SHA512 = base64.b64encode(hashlib.sha512(BODY).digest()).decode()


def test_made_digests_are_sha256_in_each_header_syntax():
    assert digest.make_digest(BODY) == f"SHA-256={SHA256}"
    assert digest.make_content_digest(BODY) == f"sha-256=:{SHA256}:"


def test_made_digests_check_against_their_body():
    digest.check_digest(digest.make_digest(BODY), BODY)
    digest.check_content_digest(digest.make_content_digest(BODY), BODY)


@pytest.mark.parametrize(
    ("value", "body", "error"),
    [
        (f"SHA-256={SHA256}", b"tampered", DigestMismatch),
        ("SHA-256=***", BODY, BadBase64),
        ("SHA-256", BODY, MalformedSignature),
        ("MD5=abc", BODY, MissingDigest),
        (f"SHA-256={SHA256},SHA-512={SHA256}", BODY, DigestMismatch),
    ],
)
def test_a_wrong_digest_names_what_is_wrong(value, body, error):
    with pytest.raises(error):
        digest.check_digest(value, body)


def test_sha512_alone_is_enough_and_unknown_algorithms_are_ignored():
    digest.check_digest(f"MD5=abc, SHA-512={SHA512}", BODY)
    digest.check_content_digest(f"md5=:AAAA:, sha-512=:{SHA512}:", BODY)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("not a dictionary(", MalformedSignature),
        ('sha-256="text"', MalformedSignature),
        ("md5=:AAAA:", MissingDigest),
        (f"sha-256=:{SHA512}:", DigestMismatch),
    ],
)
def test_a_wrong_content_digest_names_what_is_wrong(value, error):
    with pytest.raises(error):
        digest.check_content_digest(value, BODY)


def test_a_body_request_must_carry_and_sign_a_digest():
    fields = {"digest": [digest.make_digest(BODY)]}
    digest.check_body_digests(fields, ("digest",), BODY, body_request=True)
    with pytest.raises(MissingSignedHeader):
        digest.check_body_digests(fields, ("host",), BODY, body_request=True)
    with pytest.raises(MissingDigest):
        digest.check_body_digests({}, (), BODY, body_request=True)
    digest.check_body_digests({}, (), b"", body_request=False)


def test_every_digest_present_must_match_even_on_a_get():
    fields = {"content-digest": [digest.make_content_digest(b"other")]}
    with pytest.raises(DigestMismatch):
        digest.check_body_digests(fields, (), BODY, body_request=False)
