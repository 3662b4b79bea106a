"""Secrets sealed at rest: private key PEMs encrypted with Fernet under a keyring.

A ``Keyring`` holds one or more Fernet keys (AES-128-CBC with an HMAC-SHA256, from
``cryptography``): the first seals, every one opens, so a key can be rotated without a
moment where stored secrets cannot be read (put the new key first, reseal everything,
then drop the old one). A sealed value is a Fernet token, plain ASCII that fits the TEXT
column the PEM used to fill; a PEM is never a token, so ``is_sealed`` tells them apart for
the one-time sealing of keys written before encryption at rest.

Nothing here logs, and neither a keyring nor an error ever shows a key or a secret.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PEM_BEGIN = "-----BEGIN"


class CannotOpen(Exception):
    """No key of the keyring opens this sealed value (a wrong key, or a damaged value)."""


def new_key() -> str:
    """A fresh Fernet key: 32 random bytes, URL-safe base64 (what the setting holds)."""
    return Fernet.generate_key().decode("ascii")


def is_sealed(stored: str) -> bool:
    """Whether a stored value is sealed (a PEM written before sealing is not)."""
    return not stored.lstrip().startswith(PEM_BEGIN)


class Keyring:
    """The keys that seal and open secrets: the first seals, any opens."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        fernets = [Fernet(key.encode("ascii")) for key in keys]
        self._first = fernets[0]
        self._fernet = MultiFernet(fernets)
        self._count = len(keys)

    def __repr__(self) -> str:
        return f"Keyring({self._count} key(s))"

    def seal(self, secret: str) -> str:
        """Encrypt ``secret`` with the first key."""
        return self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        """Decrypt a sealed value with whichever key sealed it; ``CannotOpen`` if none."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise CannotOpen("no key of the keyring opens this value") from None

    def sealed_with_first(self, sealed: str) -> bool:
        """Whether the first key opens ``sealed`` (a rotation has nothing to do for it)."""
        try:
            self._first.decrypt(sealed.encode("ascii"))
        except (InvalidToken, UnicodeError):
            return False
        return True

    def reseal(self, sealed: str) -> str:
        """The same secret sealed with the first key (``CannotOpen`` if no key opens it)."""
        try:
            return self._fernet.rotate(sealed.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise CannotOpen("no key of the keyring opens this value") from None
