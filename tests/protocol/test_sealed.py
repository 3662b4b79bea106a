"""protocol.sealed: secrets encrypted at rest under a keyring (pure, no database)."""

from __future__ import annotations

import pytest

from fedi_town.protocol.sealed import CannotOpen, Keyring, is_sealed, new_key

PEM = "-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----\n"


def test_a_sealed_secret_opens_to_itself_and_holds_no_pem() -> None:
    ring = Keyring([new_key()])

    sealed = ring.seal(PEM)

    assert "BEGIN" not in sealed and is_sealed(sealed)
    assert ring.open(sealed) == PEM
    assert not is_sealed(PEM)


def test_after_a_rotation_the_old_key_still_opens_until_everything_is_resealed() -> None:
    # Given a value sealed with the old key, and a keyring with a new key first
    old, new = new_key(), new_key()
    sealed_before = Keyring([old]).seal(PEM)
    ring = Keyring([new, old])
    # Then it still opens, is not yet sealed with the first key, and reseals to the new key
    assert ring.open(sealed_before) == PEM
    assert not ring.sealed_with_first(sealed_before)
    resealed = ring.reseal(sealed_before)
    assert ring.sealed_with_first(resealed)
    assert Keyring([new]).open(resealed) == PEM


def test_a_wrong_key_or_a_damaged_value_cannot_open_and_says_nothing_secret() -> None:
    key = new_key()
    ring = Keyring([key])
    sealed = Keyring([new_key()]).seal(PEM)

    for value in (sealed, sealed[:-4] + "AAAA", "not a token", "ü"):
        with pytest.raises(CannotOpen) as refused:
            ring.open(value)
        assert "BEGIN" not in str(refused.value)
    assert key not in repr(ring) and key not in str(ring)


def test_a_keyring_needs_a_key() -> None:
    with pytest.raises(ValueError, match="at least one key"):
        Keyring([])
