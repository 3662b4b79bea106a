"""Passwords: argon2id hashes (argon2-cffi), checked off the event loop.

argon2-cffi's defaults are RFC 9106's second recommendation (64 MiB, 3 passes, 4 lanes):
about 0.1–0.2 s of CPU (188 ms measured on a busy 2-core machine) and 64 MiB per check,
paid only at sign-in. A hash made with weaker parameters than today's is replaced at the
next sign-in (``needs_rehash``). A login that does not exist
is checked against a fixed hash too, so the answer's time does not tell which logins exist.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_LENGTH = 10
MAX_LENGTH = 1024


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    # argon2-cffi (and cffi) load at the first sign-in, not at start: a process serving only
    # federation traffic never needs them (idle RSS target: 80 MB).
    from argon2 import PasswordHasher  # deferred: sign-in only

    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hasher().hash("not a password anyone has")


def password_problem(password: str, login: str = "") -> str | None:
    """Why ``password`` will not do, in a sentence; None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters; a few words in a row are easy to remember."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if login and password.strip().lower() == login.strip().lower():
        return "Use something other than your sign-in name."
    return None


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(hasher().hash, password)


def _verify(stored: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError  # deferred: as hasher

    try:
        return hasher().verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (None: no such person; still takes the time)."""
    return await anyio.to_thread.run_sync(_verify, stored, password)


def needs_rehash(stored: str) -> bool:
    return hasher().check_needs_rehash(stored)
