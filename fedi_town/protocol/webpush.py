"""Web Push as a sender: the instance's VAPID key (RFC 8292) and encrypted messages.

    new_vapid_key()                      a P-256 key pair: (private PEM, public key as the
                                         base64url of its uncompressed point, what apps get
                                         as ``vapid_key``)
    vapid_jwt(private_pem, endpoint, subject, now)
                                         the ES256 JWT a push service checks
    encrypt(payload, p256dh, auth, private_pem=..., endpoint=..., subject=..., standard=...)
                                         the body and headers of the POST to the endpoint

``standard=True`` is RFC 8291 (``Content-Encoding: aes128gcm``, ``Authorization: vapid
t=…, k=…``), what Mastodon 4.4 sends to a subscription made with ``standard``; otherwise
the older draft Mastodon still sends by default and that existing apps decrypt
(``aesgcm`` with ``Encryption: salt=…`` and ``Crypto-Key: dh=…;p256ecdsa=…``, and
``Authorization: WebPush <jwt>``). The content encryption itself is ``http_ece``'s.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

#: How long a VAPID JWT is good for (RFC 8292 allows at most 24 hours).
JWT_SECONDS = 12 * 3600
#: Seconds a push service keeps an undelivered message.
TTL_SECONDS = 48 * 3600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64decode(text: str) -> bytes:
    """Base64, either alphabet, padded or not (apps send both)."""
    cleaned = text.strip().replace("+", "-").replace("/", "_").rstrip("=")
    return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))


def _public_point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def new_vapid_key() -> tuple[str, str]:
    """A new P-256 key pair: its private key as PEM, its public point as base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return pem, b64url(_public_point(key.public_key()))


def _private(pem: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("not an EC key")
    return key


def public_of(private_pem: str) -> str:
    """The base64url public point of a VAPID private key."""
    return b64url(_public_point(_private(private_pem).public_key()))


def vapid_jwt(private_pem: str, endpoint: str, subject: str, now: int) -> str:
    """The VAPID JWT for ``endpoint``'s push service: audience its origin, expiry
    ``JWT_SECONDS`` after ``now`` (seconds), ``sub`` a contact URL of the instance."""
    parts = urlsplit(endpoint)
    claims = {"aud": f"{parts.scheme}://{parts.netloc}", "exp": now + JWT_SECONDS, "sub": subject}
    header = {"typ": "JWT", "alg": "ES256"}
    signing = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    der = _private(private_pem).sign(signing.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return signing + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


@dataclass(frozen=True)
class Message:
    """What to POST to a subscription's endpoint."""

    body: bytes
    headers: dict[str, str]


def encrypt(
    payload: bytes,
    p256dh: str,
    auth: str,
    *,
    private_pem: str,
    endpoint: str,
    subject: str,
    now: int,
    standard: bool,
    urgency: str = "normal",
) -> Message:
    """Encrypt ``payload`` for the subscription keys (``p256dh``, ``auth``, base64) and
    sign for ``endpoint``; ``ValueError`` for keys that are not a P-256 point and a
    16-byte secret."""
    receiver = b64decode(p256dh)
    secret = b64decode(auth)
    if len(secret) != 16:
        raise ValueError("auth is not 16 bytes")
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), receiver)
    import http_ece  # deferred: the first push (~0.6 MB resident an instance may never need)

    sender = ec.generate_private_key(ec.SECP256R1())
    token = vapid_jwt(private_pem, endpoint, subject, now)
    vapid_public = public_of(private_pem)
    headers = {"TTL": str(TTL_SECONDS), "Urgency": urgency}
    if standard:
        body = http_ece.encrypt(
            payload,
            salt=os.urandom(16),
            private_key=sender,
            dh=receiver,
            auth_secret=secret,
            version="aes128gcm",
        )
        headers |= {
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "Authorization": f"vapid t={token}, k={vapid_public}",
        }
        return Message(body, headers)
    salt = os.urandom(16)
    body = http_ece.encrypt(
        payload,
        salt=salt,
        private_key=sender,
        dh=receiver,
        auth_secret=secret,
        version="aesgcm",
    )
    headers |= {
        "Content-Encoding": "aesgcm",
        "Content-Type": "application/octet-stream",
        "Encryption": f"salt={b64url(salt)}",
        "Crypto-Key": f"dh={b64url(_public_point(sender.public_key()))};p256ecdsa={vapid_public}",
        "Authorization": f"WebPush {token}",
    }
    return Message(body, headers)
