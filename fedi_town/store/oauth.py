"""Queries on the Mastodon client API's OAuth state: apps, authorization codes, tokens.

Secrets (client secrets, codes, tokens) are stored as their SHA-256 only and looked up by
it; whoever reads the database cannot sign in with what it finds. A code is spent by one
UPDATE that succeeds once (``used_at IS NULL`` and not expired), so two token requests
racing with the same code get one token between them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fedi_town.store.db import Store, new_id


@dataclass(frozen=True)
class OAuthApp:
    id: int
    client_id: str
    secret_hash: str
    name: str
    website: str | None
    redirect_uris: list[str]
    scopes: list[str]
    created_at: int


@dataclass(frozen=True)
class Code:
    app_id: int
    person_id: int
    business_id: int
    scopes: list[str]
    redirect_uri: str
    code_challenge: str | None


@dataclass(frozen=True)
class Token:
    """An access token as stored (never the token itself), with its app's name."""

    id: int
    app_id: int
    app_name: str
    app_website: str | None
    business_id: int | None
    person_id: int | None
    scopes: list[str]
    created_at: int
    last_used_at: int | None
    revoked_at: int | None


def _app(row: Mapping[str, Any]) -> OAuthApp:
    return OAuthApp(
        id=int(row["id"]),
        client_id=str(row["client_id"]),
        secret_hash=str(row["secret_hash"]),
        name=str(row["name"]),
        website=row["website"],
        redirect_uris=[u for u in str(row["redirect_uris"]).split("\n") if u],
        scopes=str(row["scopes"]).split(),
        created_at=int(row["created_at"]),
    )


def _token(row: Mapping[str, Any]) -> Token:
    return Token(
        id=int(row["id"]),
        app_id=int(row["app_id"]),
        app_name=str(row["name"]),
        app_website=row["website"],
        business_id=row["business_id"],
        person_id=row["person_id"],
        scopes=str(row["scopes"]).split(),
        created_at=int(row["created_at"]),
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


async def create_app(
    store: Store,
    *,
    client_id: str,
    secret_hash: str,
    name: str,
    website: str | None,
    redirect_uris: list[str],
    scopes: list[str],
    now: int,
) -> OAuthApp:
    app_id = new_id(now)
    await store.execute(
        "INSERT INTO oauth_apps (id, client_id, secret_hash, name, website, redirect_uris, "
        "scopes, created_at) VALUES (:id, :c, :s, :n, :w, :r, :sc, :now)",
        {
            "id": app_id,
            "c": client_id,
            "s": secret_hash,
            "n": name,
            "w": website,
            "r": "\n".join(redirect_uris),
            "sc": " ".join(scopes),
            "now": now,
        },
    )
    found = await app_by_client_id(store, client_id)
    assert found is not None
    return found


async def app_by_client_id(store: Store, client_id: str) -> OAuthApp | None:
    row = await store.fetch_one("SELECT * FROM oauth_apps WHERE client_id = :c", {"c": client_id})
    return _app(row) if row else None


async def app_by_id(store: Store, app_id: int) -> OAuthApp | None:
    row = await store.fetch_one("SELECT * FROM oauth_apps WHERE id = :id", {"id": app_id})
    return _app(row) if row else None


async def create_code(
    store: Store,
    *,
    code_hash: str,
    app_id: int,
    person_id: int,
    business_id: int,
    scopes: list[str],
    redirect_uri: str,
    code_challenge: str | None,
    now: int,
    expires_at: int,
) -> None:
    await store.execute(
        "INSERT INTO oauth_codes (code_hash, app_id, person_id, business_id, scopes, "
        "redirect_uri, code_challenge, created_at, expires_at) "
        "VALUES (:h, :a, :p, :b, :s, :r, :c, :now, :exp)",
        {
            "h": code_hash,
            "a": app_id,
            "p": person_id,
            "b": business_id,
            "s": " ".join(scopes),
            "r": redirect_uri,
            "c": code_challenge,
            "now": now,
            "exp": expires_at,
        },
    )


async def spend_code(store: Store, code_hash: str, app_id: int, *, now: int) -> Code | None:
    """The code with this hash for this app, marked used; None when unknown, already used,
    expired or another app's. Expired and used codes are forgotten on the way."""
    row = await store.fetch_one(
        "UPDATE oauth_codes SET used_at = :now WHERE code_hash = :h AND app_id = :a "
        "AND used_at IS NULL AND expires_at > :now "
        "RETURNING app_id, person_id, business_id, scopes, redirect_uri, code_challenge",
        {"h": code_hash, "a": app_id, "now": now},
    )
    await store.execute(
        "DELETE FROM oauth_codes WHERE expires_at <= :now AND code_hash <> :h",
        {"now": now, "h": code_hash},
    )
    if row is None:
        return None
    return Code(
        app_id=int(row["app_id"]),
        person_id=int(row["person_id"]),
        business_id=int(row["business_id"]),
        scopes=str(row["scopes"]).split(),
        redirect_uri=str(row["redirect_uri"]),
        code_challenge=row["code_challenge"],
    )


async def create_token(
    store: Store,
    *,
    token_hash: str,
    app_id: int,
    business_id: int | None,
    person_id: int | None,
    scopes: list[str],
    now: int,
) -> int:
    token_id = new_id(now)
    await store.execute(
        "INSERT INTO oauth_tokens (id, token_hash, app_id, business_id, person_id, scopes, "
        "created_at) VALUES (:id, :h, :a, :b, :p, :s, :now)",
        {
            "id": token_id,
            "h": token_hash,
            "a": app_id,
            "b": business_id,
            "p": person_id,
            "s": " ".join(scopes),
            "now": now,
        },
    )
    return token_id


_TOKENS_SQL = (
    "SELECT t.id, t.token_hash, t.app_id, t.business_id, t.person_id, t.scopes, t.created_at, "
    "t.last_used_at, t.revoked_at, a.name, a.website FROM oauth_tokens t "
    "JOIN oauth_apps a ON a.id = t.app_id "
)


async def token_by_hash(store: Store, token_hash: str) -> tuple[Token, str] | None:
    """The live (unrevoked) token with this hash, and the stored hash to compare with."""
    row = await store.fetch_one(
        _TOKENS_SQL + "WHERE t.token_hash = :h AND t.revoked_at IS NULL", {"h": token_hash}
    )
    return (_token(row), str(row["token_hash"])) if row else None


async def touch_token(store: Store, token_id: int, *, now: int) -> None:
    await store.execute(
        "UPDATE oauth_tokens SET last_used_at = :now WHERE id = :id", {"id": token_id, "now": now}
    )


async def tokens_of_business(store: Store, business_id: int) -> list[Token]:
    """The live tokens that act as this business, newest first."""
    rows = await store.fetch_all(
        _TOKENS_SQL + "WHERE t.business_id = :b AND t.revoked_at IS NULL ORDER BY t.id DESC",
        {"b": business_id},
    )
    return [_token(r) for r in rows]


async def revoke_token(store: Store, token_id: int, *, business_id: int | None, now: int) -> bool:
    """Revoke a token (of this business when ``business_id`` is given); True if it was live."""
    sql = "UPDATE oauth_tokens SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL"
    values: dict[str, Any] = {"id": token_id, "now": now}
    if business_id is not None:
        sql += " AND business_id = :b"
        values["b"] = business_id
    return bool(await store.fetch_all(sql + " RETURNING id", values))


async def revoke_by_hash(store: Store, token_hash: str, app_id: int, *, now: int) -> None:
    await store.execute(
        "UPDATE oauth_tokens SET revoked_at = :now WHERE token_hash = :h AND app_id = :a "
        "AND revoked_at IS NULL",
        {"h": token_hash, "a": app_id, "now": now},
    )
