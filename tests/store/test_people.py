"""Queries on people, invites, sessions, passkeys and wrong-password counts (both backends)."""

from __future__ import annotations

import asyncio

import pytest

from fedi_town.store import people

pytestmark = pytest.mark.anyio


async def admin(store, login: str = "anna", name: str = "Anna", *, now: int = 1):
    """An instance admin stored directly (the password hash is not what these tests check)."""
    return await people.create_person(
        store,
        business_id=None,
        role="admin",
        login=login,
        display_name=name,
        password_hash="x",
        now=now,
    )


async def _invite(store, *, now=1000, expires_at=10_000, token="h1"):
    return await people.create_invite(
        store,
        token_hash=token,
        business_id=None,
        role="admin",
        person_id=None,
        created_by=None,
        now=now,
        expires_at=expires_at,
    )


async def test_an_invite_is_used_once_even_when_two_try_at_the_same_time(store):
    invite = await _invite(store)
    results = await asyncio.gather(
        *(people.use_invite(store, invite.id, now=2000) for _ in range(5))
    )
    assert sorted(results) == [False, False, False, False, True]
    stored = await people.invite_by_token_hash(store, "h1")
    assert stored is not None and stored.used_at == 2000


async def test_an_expired_invite_cannot_be_used(store):
    invite = await _invite(store, expires_at=1500)
    assert not await people.use_invite(store, invite.id, now=1500)


async def test_logins_are_unique_whatever_their_case(store):
    person = await admin(store, "Anna", "Anna", now=1)
    assert person.login == "anna"
    assert (await people.by_login(store, "ANNA")).id == person.id
    with pytest.raises(Exception):  # the backends raise different classes
        await admin(store, "anna", "Other", now=2)


async def test_a_removed_person_loses_sessions_and_passkeys(store):
    person = await admin(store, "anna", "Anna", now=1)
    await people.create_session(
        store, id_hash="s1", person_id=person.id, now=1, expires_at=10**15, user_agent="phone"
    )
    await people.add_passkey(
        store,
        person_id=person.id,
        credential_id="c1",
        public_key="k",
        sign_count=0,
        name="Phone",
        now=1,
    )
    assert await people.session_and_person(store, "s1", now=2) is not None
    await people.disable(store, person.id, now=3)
    assert await people.session_and_person(store, "s1", now=4) is None
    assert await people.passkeys_of(store, person.id) == []
    assert await people.of_business(store, None) == []


async def test_an_expired_session_is_not_found(store):
    person = await admin(store, "anna", "Anna", now=1)
    await people.create_session(
        store, id_hash="s1", person_id=person.id, now=1, expires_at=100, user_agent=""
    )
    assert await people.session_and_person(store, "s1", now=99) is not None
    assert await people.session_and_person(store, "s1", now=100) is None


async def test_a_passkey_challenge_is_taken_once_and_not_after_it_expires(store):
    await people.add_challenge(store, "c1", expires_at=100)
    await people.add_challenge(store, "c2", expires_at=100)
    assert await people.take_challenge(store, "c1", now=50)
    assert not await people.take_challenge(store, "c1", now=51)
    assert not await people.take_challenge(store, "c2", now=100)


async def test_wrong_passwords_are_counted_per_window(store):
    for now in (0, 10, 20):
        await people.record_failure(store, "login:anna", now=now, window_ms=100)
    assert await people.failures(store, ["login:anna", "addr:x"], now=50, window_ms=100) == {
        "login:anna": 3
    }
    # a new window starts over
    await people.record_failure(store, "login:anna", now=150, window_ms=100)
    assert await people.failures(store, ["login:anna"], now=160, window_ms=100) == {"login:anna": 1}
    await people.clear_failures(store, "login:anna")
    assert await people.failures(store, ["login:anna"], now=160, window_ms=100) == {}
