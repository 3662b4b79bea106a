"""OAuth rows: codes spent once and only in time, tokens found by hash and revoked."""

from __future__ import annotations

import pytest

from fedi_town.store import oauth

pytestmark = pytest.mark.anyio


async def an_app(store):
    return await oauth.create_app(
        store,
        client_id="cid",
        secret_hash="h",
        name="Tusky",
        website=None,
        redirect_uris=["tusky://oauth", "urn:ietf:wg:oauth:2.0:oob"],
        scopes=["read", "write"],
        now=1000,
    )


async def test_an_app_keeps_its_redirect_uris_and_scopes(store):
    app = await an_app(store)
    found = await oauth.app_by_client_id(store, "cid")
    assert found == app
    assert found.redirect_uris == ["tusky://oauth", "urn:ietf:wg:oauth:2.0:oob"]
    assert found.scopes == ["read", "write"]


async def test_a_code_is_spent_once_by_its_own_app_before_it_expires(store):
    app = await an_app(store)
    values = dict(
        app_id=app.id,
        person_id=1,
        business_id=2,
        scopes=["read"],
        redirect_uri="tusky://oauth",
        code_challenge=None,
        now=1000,
        expires_at=2000,
    )
    await oauth.create_code(store, code_hash="c1", **values)
    await oauth.create_code(store, code_hash="c2", **values)
    assert await oauth.spend_code(store, "c1", app.id + 1, now=1500) is None
    spent = await oauth.spend_code(store, "c1", app.id, now=1500)
    assert spent is not None and spent.business_id == 2 and spent.scopes == ["read"]
    assert await oauth.spend_code(store, "c1", app.id, now=1500) is None
    assert await oauth.spend_code(store, "c2", app.id, now=2000) is None


async def test_a_token_is_found_by_hash_until_revoked_and_only_by_its_business(store):
    app = await an_app(store)
    token_id = await oauth.create_token(
        store, token_hash="t1", app_id=app.id, business_id=5, person_id=1, scopes=["read"], now=1
    )
    found = await oauth.token_by_hash(store, "t1")
    assert found is not None and found[0].app_name == "Tusky" and found[1] == "t1"
    assert [t.id for t in await oauth.tokens_of_business(store, 5)] == [token_id]
    assert not await oauth.revoke_token(store, token_id, business_id=6, now=2)
    assert await oauth.revoke_token(store, token_id, business_id=5, now=2)
    assert await oauth.token_by_hash(store, "t1") is None
    assert await oauth.tokens_of_business(store, 5) == []
