"""protocol.httpsig_cavage: draft-cavage Signature headers, made and read back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fedi_town.protocol import digest, httpsig_cavage
from fedi_town.protocol.httpsig_common import MalformedSignature, collect_fields
from fedi_town.protocol.keys import generate_ed25519_keypair, generate_rsa_keypair, load_private_key

KEY_ID = "https://town.example/users/bakery#main-key"
BODY = b'{"type":"Like"}'
HEADERS = {
    "Host": "social.example",
    "Date": "Mon, 23 Nov 2026 12:00:00 GMT",
    "Digest": digest.make_digest(BODY),
    "Content-Type": "application/activity+json",
}


@pytest.fixture(scope="module")
def rsa_key():
    private_pem, _ = generate_rsa_keypair()
    return load_private_key(private_pem)


def test_a_post_signs_target_host_date_digest_and_content_type(rsa_key):
    header = httpsig_cavage.sign("POST", "/inbox", HEADERS, key_id=KEY_ID, private_key=rsa_key)
    assert header.startswith(f'keyId="{KEY_ID}",algorithm="rsa-sha256",')
    assert 'headers="(request-target) host date digest content-type"' in header


def test_a_get_signs_target_host_and_date_only(rsa_key):
    headers = {"Host": "social.example", "Date": HEADERS["Date"]}
    header = httpsig_cavage.sign("GET", "/users/bob", headers, key_id=KEY_ID, private_key=rsa_key)
    assert 'headers="(request-target) host date"' in header


def test_an_ed25519_key_declares_hs2019():
    private_pem, _ = generate_ed25519_keypair()
    header = httpsig_cavage.sign(
        "GET", "/", HEADERS, key_id=KEY_ID, private_key=load_private_key(private_pem)
    )
    assert 'algorithm="hs2019"' in header


def test_what_is_signed_parses_back_with_its_key_id_and_date(rsa_key):
    header = httpsig_cavage.sign("POST", "/inbox", HEADERS, key_id=KEY_ID, private_key=rsa_key)
    fields = collect_fields(HEADERS)
    sig = httpsig_cavage.parse("POST", "/inbox", fields, BODY, header)
    assert (sig.scheme, sig.key_id, sig.algorithm) == ("cavage", KEY_ID, "rsa-sha256")
    assert sig.covered == ("(request-target)", "host", "date", "digest", "content-type")
    assert sig.created == datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
    assert sig.host == "social.example"


@pytest.mark.parametrize(
    "header", ['signature="AAAA"', 'keyId="k"', "garbage", 'keyId="a\x01b",signature="AAAA"']
)
def test_a_header_without_key_id_or_signature_is_malformed(header):
    with pytest.raises(MalformedSignature):
        httpsig_cavage.parse("GET", "/", collect_fields(HEADERS), b"", header)
