"""Web Push as a sender: the VAPID JWT verifies with the public key, and both encodings
open with the receiver's private key (``http_ece`` as a push receiver uses it)."""

from __future__ import annotations

import base64
import json

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from fedi_town.protocol import webpush


def _receiver() -> tuple[ec.EllipticCurvePrivateKey, str, bytes, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    secret = b"0123456789abcdef"
    return key, base64.b64encode(point).decode(), secret, base64.b64encode(secret).decode()


def test_the_vapid_jwt_is_signed_for_the_push_services_origin() -> None:
    # Given a new VAPID key
    private_pem, public = webpush.new_vapid_key()
    # When a JWT is made for an endpoint
    jwt = webpush.vapid_jwt(private_pem, "https://push.example:8443/a/b?c", "https://town", 1000)
    # Then it verifies with the public key, for the endpoint's origin, for 12 hours
    head, claims, signature = jwt.split(".")
    raw = webpush.b64decode(signature)
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), webpush.b64decode(public))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    assert json.loads(webpush.b64decode(claims)) == {
        "aud": "https://push.example:8443",
        "exp": 1000 + webpush.JWT_SECONDS,
        "sub": "https://town",
    }
    assert webpush.public_of(private_pem) == public


@pytest.mark.parametrize("standard", [True, False])
def test_a_message_opens_with_the_receivers_key(standard: bool) -> None:
    # Given a receiver's keys and the instance's VAPID key
    key, p256dh, secret, auth = _receiver()
    private_pem, public = webpush.new_vapid_key()
    # When a payload is encrypted for it
    message = webpush.encrypt(
        b'{"title": "hi"}',
        p256dh,
        auth,
        private_pem=private_pem,
        endpoint="https://push.example/x",
        subject="https://town",
        now=1000,
        standard=standard,
    )
    # Then the receiver opens it, and the headers are those of its encoding
    if standard:
        opened = http_ece.decrypt(
            message.body, private_key=key, auth_secret=secret, version="aes128gcm"
        )
        assert message.headers["Authorization"].endswith(f", k={public}")
        assert message.headers["Content-Encoding"] == "aes128gcm"
    else:
        salt = message.headers["Encryption"].removeprefix("salt=")
        dh = message.headers["Crypto-Key"].split(";")[0].removeprefix("dh=")
        opened = http_ece.decrypt(
            message.body,
            salt=webpush.b64decode(salt),
            private_key=key,
            dh=webpush.b64decode(dh),
            auth_secret=secret,
            version="aesgcm",
        )
        assert message.headers["Authorization"].startswith("WebPush ")
        assert message.headers["Crypto-Key"].endswith(f";p256ecdsa={public}")
    assert opened == b'{"title": "hi"}'
    assert message.headers["TTL"] == str(webpush.TTL_SECONDS)


@pytest.mark.parametrize(
    ("p256dh", "auth"),
    [("AAAA", "MDEyMzQ1Njc4OWFiY2RlZg=="), (None, "c2hvcnQ=")],
)
def test_keys_that_are_not_a_point_and_a_16_byte_secret_are_refused(
    p256dh: str | None, auth: str
) -> None:
    # Given keys that cannot be used
    _key, good_point, _secret, _auth = _receiver()
    private_pem, _public = webpush.new_vapid_key()
    # When / Then encrypting for them is a ValueError
    with pytest.raises(ValueError):
        webpush.encrypt(
            b"x",
            p256dh or good_point,
            auth,
            private_pem=private_pem,
            endpoint="https://push.example/x",
            subject="https://town",
            now=1,
            standard=True,
        )
