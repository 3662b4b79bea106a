"""Queries on the people who sign in to the owner's web app: people, invites, web sessions,
passkeys, passkey challenges and the count of wrong passwords.

A person belongs to one business (role ``owner`` or ``staff``) or, with ``business_id``
NULL, is an instance admin (role ``admin``). Secrets are never stored: an invite or session
is found by the SHA-256 of its random token (``token_hash``, ``id_hash``), a password by its
argon2 hash. Single use is a compare-and-set (``UPDATE ... WHERE used_at IS NULL ...
RETURNING``), so two browsers opening the same invite at once cannot both use it, on either
backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fedi_town.store.db import Store, new_id

ROLES = ("owner", "staff", "admin")


@dataclass(frozen=True)
class Person:
    id: int
    business_id: int | None
    role: str
    login: str
    display_name: str
    created_at: int
    disabled_at: int | None
    #: the argon2 hash; None until the person has set a password
    password_hash: str | None = field(default=None, repr=False)

    @property
    def is_admin(self) -> bool:
        return self.business_id is None and self.role == "admin"


@dataclass(frozen=True)
class Invite:
    id: int
    business_id: int | None
    role: str
    #: set when the invite gives someone who exists a new password
    person_id: int | None
    created_by: int | None
    created_at: int
    expires_at: int
    used_at: int | None


@dataclass(frozen=True)
class WebSession:
    id_hash: str
    person_id: int
    created_at: int
    last_seen_at: int
    expires_at: int
    user_agent: str
    #: a WebAuthn challenge waiting for its answer (adding a passkey), or None
    challenge: str | None


@dataclass(frozen=True)
class Passkey:
    id: int
    person_id: int
    credential_id: str
    public_key: str
    sign_count: int
    name: str
    created_at: int
    last_used_at: int | None


def _person(row: Mapping[str, Any], prefix: str = "") -> Person:
    business = row[prefix + "business_id"]
    disabled = row[prefix + "disabled_at"]
    return Person(
        id=int(row[prefix + "id"]),
        business_id=int(business) if business is not None else None,
        role=str(row[prefix + "role"]),
        login=str(row[prefix + "login"]),
        display_name=str(row[prefix + "display_name"]),
        created_at=int(row[prefix + "created_at"]),
        disabled_at=int(disabled) if disabled is not None else None,
        password_hash=row[prefix + "password_hash"],
    )


def _invite(row: Mapping[str, Any]) -> Invite:
    def maybe(name: str) -> int | None:
        value = row[name]
        return int(value) if value is not None else None

    return Invite(
        id=int(row["id"]),
        business_id=maybe("business_id"),
        role=str(row["role"]),
        person_id=maybe("person_id"),
        created_by=maybe("created_by"),
        created_at=int(row["created_at"]),
        expires_at=int(row["expires_at"]),
        used_at=maybe("used_at"),
    )


def _session(row: Mapping[str, Any]) -> WebSession:
    return WebSession(
        id_hash=str(row["id_hash"]),
        person_id=int(row["person_id"]),
        created_at=int(row["created_at"]),
        last_seen_at=int(row["last_seen_at"]),
        expires_at=int(row["expires_at"]),
        user_agent=str(row["user_agent"]),
        challenge=row["challenge"],
    )


def _passkey(row: Mapping[str, Any]) -> Passkey:
    used = row["last_used_at"]
    return Passkey(
        id=int(row["id"]),
        person_id=int(row["person_id"]),
        credential_id=str(row["credential_id"]),
        public_key=str(row["public_key"]),
        sign_count=int(row["sign_count"]),
        name=str(row["name"]),
        created_at=int(row["created_at"]),
        last_used_at=int(used) if used is not None else None,
    )


_PERSON = "id, business_id, role, login, display_name, created_at, disabled_at, password_hash"


def _whose(business_id: int | None) -> tuple[str, dict[str, Any]]:
    """The WHERE clause (and its value) for rows of a business, or the admin's (NULL)."""
    if business_id is None:
        return "business_id IS NULL", {}
    return "business_id = :b", {"b": business_id}


# --- people ------------------------------------------------------------------------------


async def create_person(
    store: Store,
    *,
    business_id: int | None,
    role: str,
    login: str,
    display_name: str,
    password_hash: str,
    now: int,
) -> Person:
    """Store a new person (``login`` lowercased); the caller checks it is free first."""
    assert role in ROLES
    person_id = new_id(now)
    await store.execute(
        """INSERT INTO people (id, business_id, role, login, display_name, password_hash,
               created_at, updated_at)
           VALUES (:id, :b, :role, :login, :name, :hash, :now, :now)""",
        {
            "id": person_id,
            "b": business_id,
            "role": role,
            "login": login.lower(),
            "name": display_name,
            "hash": password_hash,
            "now": now,
        },
    )
    found = await by_id(store, person_id)
    assert found is not None
    return found


async def by_id(store: Store, person_id: int) -> Person | None:
    row = await store.fetch_one(f"SELECT {_PERSON} FROM people WHERE id = :id", {"id": person_id})  # noqa: S608 (fixed text, values bound)
    return _person(row) if row is not None else None


async def by_login(store: Store, login: str) -> Person | None:
    """The person who signs in as ``login`` (any case), disabled or not."""
    row = await store.fetch_one(
        f"SELECT {_PERSON} FROM people WHERE login = :login",  # noqa: S608 (fixed text)
        {"login": login.lower()},
    )
    return _person(row) if row is not None else None


async def of_business(store: Store, business_id: int | None) -> list[Person]:
    """The people of a business (``None``: the instance admins) who are not removed."""
    where, values = _whose(business_id)
    rows = await store.fetch_all(
        f"SELECT {_PERSON} FROM people WHERE {where} AND disabled_at IS NULL ORDER BY id",  # noqa: S608 (fixed text, values bound)
        values,
    )
    return [_person(r) for r in rows]


async def set_password(store: Store, person_id: int, password_hash: str, *, now: int) -> None:
    await store.execute(
        "UPDATE people SET password_hash = :hash, updated_at = :now WHERE id = :id",
        {"hash": password_hash, "now": now, "id": person_id},
    )


async def disable(store: Store, person_id: int, *, now: int) -> None:
    """Remove a person: they cannot sign in, their sessions and passkeys end (in one
    transaction, by the caller)."""
    await store.execute(
        "UPDATE people SET disabled_at = :now, updated_at = :now WHERE id = :id",
        {"now": now, "id": person_id},
    )
    await end_sessions_of(store, person_id)
    await store.execute("DELETE FROM passkeys WHERE person_id = :id", {"id": person_id})


# --- invites -----------------------------------------------------------------------------


async def create_invite(
    store: Store,
    *,
    token_hash: str,
    business_id: int | None,
    role: str,
    person_id: int | None,
    created_by: int | None,
    now: int,
    expires_at: int,
) -> Invite:
    assert role in ROLES
    invite_id = new_id(now)
    await store.execute(
        """INSERT INTO invites (id, token_hash, business_id, role, person_id, created_by,
               created_at, expires_at)
           VALUES (:id, :hash, :b, :role, :p, :by, :now, :exp)""",
        {
            "id": invite_id,
            "hash": token_hash,
            "b": business_id,
            "role": role,
            "p": person_id,
            "by": created_by,
            "now": now,
            "exp": expires_at,
        },
    )
    row = await store.fetch_one("SELECT * FROM invites WHERE id = :id", {"id": invite_id})
    assert row is not None
    return _invite(row)


async def invite_by_token_hash(store: Store, token_hash: str) -> Invite | None:
    """The invite with this token, used, expired or not (the caller says which)."""
    row = await store.fetch_one(
        "SELECT * FROM invites WHERE token_hash = :hash", {"hash": token_hash}
    )
    return _invite(row) if row is not None else None


async def use_invite(store: Store, invite_id: int, *, now: int) -> bool:
    """Mark an unused, unexpired invite used; False when it was used or expired meanwhile."""
    rows = await store.write(
        """UPDATE invites SET used_at = :now
           WHERE id = :id AND used_at IS NULL AND expires_at > :now RETURNING id""",
        {"id": invite_id, "now": now},
    )
    return bool(rows)


async def pending_invites(store: Store, business_id: int | None, *, now: int) -> list[Invite]:
    where, values = _whose(business_id)
    values["now"] = now
    rows = await store.fetch_all(
        f"SELECT * FROM invites WHERE {where} AND used_at IS NULL AND expires_at > :now "  # noqa: S608 (fixed text, values bound)
        "ORDER BY id",
        values,
    )
    return [_invite(r) for r in rows]


async def revoke_invite(store: Store, invite_id: int, business_id: int | None, *, now: int) -> bool:
    """End an unused invite of this business (``None``: the admin's); False if none."""
    where, values = _whose(business_id)
    values.update(id=invite_id, now=now)
    rows = await store.write(
        f"UPDATE invites SET used_at = :now WHERE id = :id AND {where} AND used_at IS NULL "  # noqa: S608 (fixed text, values bound)
        "RETURNING id",
        values,
    )
    return bool(rows)


# --- sessions ----------------------------------------------------------------------------


async def create_session(
    store: Store, *, id_hash: str, person_id: int, now: int, expires_at: int, user_agent: str
) -> None:
    await store.execute(
        """INSERT INTO web_sessions (id_hash, person_id, created_at, last_seen_at, expires_at,
               user_agent)
           VALUES (:id, :p, :now, :now, :exp, :ua)""",
        {"id": id_hash, "p": person_id, "now": now, "exp": expires_at, "ua": user_agent[:200]},
    )


async def session_and_person(
    store: Store, id_hash: str, *, now: int
) -> tuple[WebSession, Person] | None:
    """The live session with this id and its person, unless expired or the person removed."""
    row = await store.fetch_one(
        """SELECT s.*, p.id AS p_id, p.business_id AS p_business_id, p.role AS p_role,
                  p.login AS p_login, p.display_name AS p_display_name,
                  p.created_at AS p_created_at, p.disabled_at AS p_disabled_at,
                  p.password_hash AS p_password_hash
           FROM web_sessions s JOIN people p ON p.id = s.person_id
           WHERE s.id_hash = :id AND s.expires_at > :now AND p.disabled_at IS NULL""",
        {"id": id_hash, "now": now},
    )
    if row is None:
        return None
    return _session(row), _person(row, "p_")


async def touch_session(store: Store, id_hash: str, *, now: int, expires_at: int) -> None:
    await store.execute(
        "UPDATE web_sessions SET last_seen_at = :now, expires_at = :exp WHERE id_hash = :id",
        {"now": now, "exp": expires_at, "id": id_hash},
    )


async def set_session_challenge(store: Store, id_hash: str, challenge: str | None) -> None:
    await store.execute(
        "UPDATE web_sessions SET challenge = :c WHERE id_hash = :id",
        {"c": challenge, "id": id_hash},
    )


async def end_session(store: Store, id_hash: str) -> None:
    await store.execute("DELETE FROM web_sessions WHERE id_hash = :id", {"id": id_hash})


async def end_sessions_of(store: Store, person_id: int) -> None:
    """Sign a person out everywhere."""
    await store.execute("DELETE FROM web_sessions WHERE person_id = :p", {"p": person_id})


async def sessions_of(store: Store, person_id: int, *, now: int) -> list[WebSession]:
    rows = await store.fetch_all(
        "SELECT * FROM web_sessions WHERE person_id = :p AND expires_at > :now "
        "ORDER BY last_seen_at DESC",
        {"p": person_id, "now": now},
    )
    return [_session(r) for r in rows]


async def forget_expired(store: Store, *, now: int) -> None:
    """Drop expired sessions and passkey challenges (called now and then, on sign-in)."""
    await store.execute("DELETE FROM web_sessions WHERE expires_at <= :now", {"now": now})
    await store.execute("DELETE FROM passkey_challenges WHERE expires_at <= :now", {"now": now})


# --- passkeys ----------------------------------------------------------------------------


async def add_passkey(
    store: Store,
    *,
    person_id: int,
    credential_id: str,
    public_key: str,
    sign_count: int,
    name: str,
    now: int,
) -> Passkey:
    passkey_id = new_id(now)
    await store.execute(
        """INSERT INTO passkeys (id, person_id, credential_id, public_key, sign_count, name,
               created_at)
           VALUES (:id, :p, :cred, :key, :count, :name, :now)""",
        {
            "id": passkey_id,
            "p": person_id,
            "cred": credential_id,
            "key": public_key,
            "count": sign_count,
            "name": name,
            "now": now,
        },
    )
    row = await store.fetch_one("SELECT * FROM passkeys WHERE id = :id", {"id": passkey_id})
    assert row is not None
    return _passkey(row)


async def passkeys_of(store: Store, person_id: int) -> list[Passkey]:
    rows = await store.fetch_all(
        "SELECT * FROM passkeys WHERE person_id = :p ORDER BY id", {"p": person_id}
    )
    return [_passkey(r) for r in rows]


async def passkey_by_credential(store: Store, credential_id: str) -> Passkey | None:
    row = await store.fetch_one(
        "SELECT * FROM passkeys WHERE credential_id = :c", {"c": credential_id}
    )
    return _passkey(row) if row is not None else None


async def passkey_used(store: Store, passkey_id: int, sign_count: int, *, now: int) -> None:
    await store.execute(
        "UPDATE passkeys SET sign_count = :count, last_used_at = :now WHERE id = :id",
        {"count": sign_count, "now": now, "id": passkey_id},
    )


async def delete_passkey(store: Store, passkey_id: int, person_id: int) -> bool:
    rows = await store.write(
        "DELETE FROM passkeys WHERE id = :id AND person_id = :p RETURNING id",
        {"id": passkey_id, "p": person_id},
    )
    return bool(rows)


async def add_challenge(store: Store, challenge: str, *, expires_at: int) -> None:
    await store.execute(
        "INSERT INTO passkey_challenges (challenge, expires_at) VALUES (:c, :exp)",
        {"c": challenge, "exp": expires_at},
    )


async def take_challenge(store: Store, challenge: str, *, now: int) -> bool:
    """Use a sign-in challenge once: True when it existed and had not expired."""
    rows = await store.write(
        "DELETE FROM passkey_challenges WHERE challenge = :c RETURNING expires_at",
        {"c": challenge},
    )
    return bool(rows) and int(rows[0]["expires_at"]) > now


# --- wrong passwords ---------------------------------------------------------------------


async def failures(store: Store, keys: list[str], *, now: int, window_ms: int) -> dict[str, int]:
    """Wrong passwords per key within the current window of each."""
    counts: dict[str, int] = {}
    for key in keys:
        row = await store.fetch_one(
            "SELECT window_start, failures FROM sign_in_failures WHERE key = :k", {"k": key}
        )
        if row is not None and now - int(row["window_start"]) < window_ms:
            counts[key] = int(row["failures"])
    return counts


async def record_failure(store: Store, key: str, *, now: int, window_ms: int) -> None:
    """Count one wrong password for ``key``, starting a new window when the last has ended."""
    await store.execute(
        """INSERT INTO sign_in_failures (key, window_start, failures) VALUES (:k, :now, 1)
           ON CONFLICT (key) DO UPDATE SET
             failures = CASE WHEN :now - sign_in_failures.window_start >= :w THEN 1
                             ELSE sign_in_failures.failures + 1 END,
             window_start = CASE WHEN :now - sign_in_failures.window_start >= :w THEN :now
                                 ELSE sign_in_failures.window_start END""",
        {"k": key, "now": now, "w": window_ms},
    )


async def clear_failures(store: Store, key: str) -> None:
    await store.execute("DELETE FROM sign_in_failures WHERE key = :k", {"k": key})
