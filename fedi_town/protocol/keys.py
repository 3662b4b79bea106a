"""Key pairs for HTTP signatures: make them, load them once, sign and verify bytes.

Actors sign with RSA (what Mastodon and every other peer expects) and may also hold an
Ed25519 key (FEP-521a, Fedify). Keys travel as PEM text: PKCS#8 for private keys, SPKI for
public keys. Parsing an RSA key with full validation costs tens of milliseconds, so the
loaders keep parsed keys in a small LRU cache keyed by the PEM text.

Signature algorithms are named as in RFC 9421 (``rsa-v1_5-sha256``, ``rsa-pss-sha512``,
``ed25519``); draft-cavage's ``rsa-sha256`` and ``hs2019`` map onto them in ``httpsig``.
Nothing here logs or formats key material.
"""

from __future__ import annotations

import functools
from typing import Literal, TypeAlias

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from fedi_town.errors import SignatureError

PrivateKey: TypeAlias = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKey: TypeAlias = rsa.RSAPublicKey | ed25519.Ed25519PublicKey
Algorithm: TypeAlias = Literal["rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519"]

ALGORITHMS: tuple[Algorithm, ...] = ("rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519")
RSA_KEY_SIZE = 2048


class BadPublicKey(SignatureError):
    """A public key document held something we cannot use as a key."""


def generate_rsa_keypair() -> tuple[str, str]:
    """Make a 2048-bit RSA key pair; return (private PKCS#8 PEM, public SPKI PEM)."""
    return _to_pem(rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_SIZE))


def generate_ed25519_keypair() -> tuple[str, str]:
    """Make an Ed25519 key pair; return (private PKCS#8 PEM, public SPKI PEM)."""
    return _to_pem(ed25519.Ed25519PrivateKey.generate())


def public_key_pem(key: PrivateKey | PublicKey) -> str:
    """The SPKI PEM of a key's public half, as it goes into ``publicKeyPem``."""
    public = (
        key.public_key() if isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) else key
    )
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def _to_pem(key: PrivateKey) -> tuple[str, str]:
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return private, public_key_pem(key)


def load_private_key(pem: str) -> PrivateKey:
    """Parse one of our own private keys (RSA or Ed25519 PKCS#8 PEM), once per process.

    A key that does not parse is a storage or configuration fault, not a peer's doing,
    so this raises ``ValueError`` rather than a ``SignatureError``.
    """
    return _load_private_key(pem.strip())


@functools.lru_cache(maxsize=256)
def _load_private_key(pem: str) -> PrivateKey:
    try:
        # Our own keys only: made by ``generate_rsa_keypair`` and kept sealed (authenticated
        # encryption, ``keys_at_rest``) or in our own database. The RSA consistency checks
        # guard against a tampered key and cost ~30 ms per key (every business key at each
        # start, every new business); a key we made and stored needs none of them.
        key = serialization.load_pem_private_key(
            pem.encode("ascii"), password=None, unsafe_skip_rsa_key_validation=True
        )
    except (ValueError, TypeError, UnicodeEncodeError, _CryptoUnsupportedAlgorithm):
        raise ValueError("not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise ValueError("private key is neither RSA nor Ed25519")
    return key


def load_public_key(pem: str) -> PublicKey:
    """Parse a remote actor's ``publicKeyPem`` (RSA or Ed25519), once per process.

    Accepts SPKI PEM and, for RSA, the older PKCS#1 ``RSA PUBLIC KEY`` form. Raises
    ``BadPublicKey`` for anything else.
    """
    if not isinstance(pem, str):
        raise BadPublicKey("public key is not a PEM string")
    return _load_public_key(pem.strip())


@functools.lru_cache(maxsize=1024)
def _load_public_key(pem: str) -> PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError, _CryptoUnsupportedAlgorithm):
        raise BadPublicKey("public key is not a PEM key") from None
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise BadPublicKey("public key is neither RSA nor Ed25519")
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 1024:
        raise BadPublicKey("RSA public key is too short")
    return key


def algorithm_named(name: str) -> Algorithm | None:
    """The algorithm with this RFC 9421 name, or None if we do not support it."""
    for algorithm in ALGORITHMS:
        if algorithm == name:
            return algorithm
    return None


def default_algorithm(key: PrivateKey | PublicKey) -> Algorithm:
    """The algorithm peers expect for this kind of key."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "ed25519"
    return "rsa-v1_5-sha256"


def sign_bytes(key: PrivateKey, algorithm: Algorithm, message: bytes) -> bytes:
    """Sign ``message`` with ``algorithm``; ``ValueError`` if the key cannot do it."""
    if algorithm == "ed25519" and isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    if algorithm == "rsa-v1_5-sha256" and isinstance(key, rsa.RSAPrivateKey):
        return key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    if algorithm == "rsa-pss-sha512" and isinstance(key, rsa.RSAPrivateKey):
        # RFC 9421 section 3.3.1: MGF1 with SHA-512 and a 64-byte salt.
        return key.sign(message, padding.PSS(padding.MGF1(hashes.SHA512()), 64), hashes.SHA512())
    raise ValueError(f"a {type(key).__name__} cannot sign with {algorithm}")


def verify_bytes(key: PublicKey, algorithm: Algorithm, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` over ``message`` is valid for ``key`` under ``algorithm``.

    A key of the wrong type for the algorithm simply does not verify.
    """
    try:
        if algorithm == "ed25519" and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
            return True
        if algorithm == "rsa-v1_5-sha256" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
            return True
        if algorithm == "rsa-pss-sha512" and isinstance(key, rsa.RSAPublicKey):
            # Accept any salt length: the salt is inside the signature, and some signers
            # use the maximum rather than RFC 9421's 64 bytes.
            pss = padding.PSS(padding.MGF1(hashes.SHA512()), padding.PSS.AUTO)
            key.verify(signature, message, pss, hashes.SHA512())
            return True
    except _CryptoInvalidSignature:
        return False
    return False
