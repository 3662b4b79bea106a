"""Key pairs: generation, cached loading, and signing / verifying bytes."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from fedi_town.errors import SignatureError
from fedi_town.protocol.keys import (
    ALGORITHMS,
    BadPublicKey,
    algorithm_named,
    default_algorithm,
    generate_ed25519_keypair,
    generate_rsa_keypair,
    load_private_key,
    load_public_key,
    public_key_pem,
    sign_bytes,
    verify_bytes,
)


@pytest.fixture(scope="module")
def rsa_pair() -> tuple[str, str]:
    return generate_rsa_keypair()


@pytest.fixture(scope="module")
def ed_pair() -> tuple[str, str]:
    return generate_ed25519_keypair()


def test_rsa_keypair_is_2048_bit_pkcs8_and_spki(rsa_pair: tuple[str, str]) -> None:
    # Given a fresh RSA key pair
    private_pem, public_pem = rsa_pair
    # Then the private half is PKCS#8, the public half SPKI, and the key 2048 bits
    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    key = load_private_key(private_pem)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048


def test_ed25519_keypair_loads_as_ed25519(ed_pair: tuple[str, str]) -> None:
    # Given a fresh Ed25519 key pair
    private_pem, public_pem = ed_pair
    # When both halves are loaded
    # Then they are Ed25519 keys
    assert isinstance(load_private_key(private_pem), ed25519.Ed25519PrivateKey)
    assert isinstance(load_public_key(public_pem), ed25519.Ed25519PublicKey)


def test_public_key_pem_of_private_key_matches_generated_public_half(
    rsa_pair: tuple[str, str],
) -> None:
    # Given a key pair
    private_pem, public_pem = rsa_pair
    # When the public PEM is derived from the private key
    # Then it is the one generated with it
    assert public_key_pem(load_private_key(private_pem)) == public_pem


def test_loading_the_same_pem_twice_returns_the_cached_key(rsa_pair: tuple[str, str]) -> None:
    # Given a PEM loaded once
    private_pem, public_pem = rsa_pair
    first_private, first_public = load_private_key(private_pem), load_public_key(public_pem)
    # When it is loaded again, even with surrounding whitespace
    # Then the very same parsed objects come back
    assert load_private_key("\n" + private_pem + "\n") is first_private
    assert load_public_key(public_pem + "  ") is first_public


def test_garbage_public_key_raises_bad_public_key() -> None:
    # Given text that is no PEM key
    # When it is loaded as a public key
    # Then BadPublicKey, a SignatureError, is raised without echoing the input
    with pytest.raises(BadPublicKey) as caught:
        load_public_key("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----")
    assert isinstance(caught.value, SignatureError)
    assert "not a key" not in str(caught.value)


def test_non_string_public_key_raises_bad_public_key() -> None:
    # Given a JSON value that is not a string
    # Then loading it raises BadPublicKey
    with pytest.raises(BadPublicKey):
        load_public_key(["-----BEGIN PUBLIC KEY-----"])  # type: ignore[arg-type]


def test_elliptic_curve_public_key_is_refused() -> None:
    # Given a P-256 public key, which no fediverse peer uses for HTTP signatures
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    # Then it is refused as a bad public key
    with pytest.raises(BadPublicKey):
        load_public_key(pem)


def test_pkcs1_rsa_public_key_is_accepted(rsa_pair: tuple[str, str]) -> None:
    # Given an RSA public key in the older "RSA PUBLIC KEY" form some servers publish
    key = load_private_key(rsa_pair[0]).public_key()
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1).decode()
    # Then it loads as an RSA key
    assert isinstance(load_public_key(pem), rsa.RSAPublicKey)


def test_garbage_private_key_raises_value_error() -> None:
    # Given a broken stored private key
    # Then loading it is a ValueError (our fault), not a SignatureError
    with pytest.raises(ValueError):
        load_private_key("nonsense")


@pytest.mark.parametrize("algorithm", ["rsa-v1_5-sha256", "rsa-pss-sha512"])
def test_rsa_signs_and_verifies_bytes(rsa_pair: tuple[str, str], algorithm: str) -> None:
    # Given an RSA key pair and an algorithm
    private_pem, public_pem = rsa_pair
    alg = algorithm_named(algorithm)
    assert alg is not None
    # When a message is signed
    signature = sign_bytes(load_private_key(private_pem), alg, b"message")
    # Then it verifies, and a changed message does not
    assert verify_bytes(load_public_key(public_pem), alg, signature, b"message")
    assert not verify_bytes(load_public_key(public_pem), alg, signature, b"messagE")


def test_ed25519_signs_and_verifies_bytes(ed_pair: tuple[str, str]) -> None:
    # Given an Ed25519 key pair
    private_pem, public_pem = ed_pair
    # When a message is signed
    signature = sign_bytes(load_private_key(private_pem), "ed25519", b"message")
    # Then it verifies
    assert verify_bytes(load_public_key(public_pem), "ed25519", signature, b"message")


def test_key_of_the_wrong_type_never_verifies(
    rsa_pair: tuple[str, str], ed_pair: tuple[str, str]
) -> None:
    # Given an Ed25519 signature
    signature = sign_bytes(load_private_key(ed_pair[0]), "ed25519", b"message")
    # When it is checked with an RSA key under each algorithm
    # Then nothing verifies
    for algorithm in ALGORITHMS:
        assert not verify_bytes(load_public_key(rsa_pair[1]), algorithm, signature, b"message")


def test_signing_with_an_algorithm_the_key_cannot_do_is_a_value_error(
    ed_pair: tuple[str, str],
) -> None:
    # Given an Ed25519 key
    # Then asking it for an RSA signature is a programming error
    with pytest.raises(ValueError):
        sign_bytes(load_private_key(ed_pair[0]), "rsa-v1_5-sha256", b"message")


def test_default_algorithm_follows_key_type(
    rsa_pair: tuple[str, str], ed_pair: tuple[str, str]
) -> None:
    # Then RSA keys default to PKCS#1 v1.5 SHA-256 and Ed25519 keys to Ed25519
    assert default_algorithm(load_public_key(rsa_pair[1])) == "rsa-v1_5-sha256"
    assert default_algorithm(load_private_key(ed_pair[0])) == "ed25519"
    assert algorithm_named("hmac-sha256") is None
