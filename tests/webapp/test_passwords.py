"""Password hashing and the rules a new password must meet."""

from __future__ import annotations

import pytest

from fedi_town.webapp import passwords

pytestmark = pytest.mark.anyio


async def test_a_hash_checks_the_right_password_and_refuses_others():
    stored = await passwords.hash_password("flour and water")
    assert stored.startswith("$argon2id$")
    assert await passwords.verify_password(stored, "flour and water")
    assert not await passwords.verify_password(stored, "flour and waters")
    assert not passwords.needs_rehash(stored)


async def test_no_stored_hash_or_a_broken_one_never_matches():
    assert not await passwords.verify_password(None, "not a password anyone has")
    assert not await passwords.verify_password("not-a-hash", "anything at all")


@pytest.mark.parametrize(
    ("password", "login", "problem"),
    [
        ("short", "", "at least 10"),
        ("x" * 1025, "", "at most 1024"),
        ("anna@example.org", "Anna@example.org", "other than your sign-in name"),
        ("correct horse battery", "anna", None),
    ],
)
def test_password_rules_say_what_to_do(password, login, problem):
    found = passwords.password_problem(password, login)
    assert (found is None) if problem is None else (problem in found)
