"""A status's edit history through Mastodon.py on a live instance (both backends): the
original and every edit, oldest first, whichever way the post was edited."""

from __future__ import annotations

import pytest
from mastodon import MastodonAPIError, MastodonNotFoundError, return_types

from tests.mastodon.flow import business_with_token, calls_as, entity_gaps, token_for

pytestmark = pytest.mark.anyio


async def test_history_lists_the_original_and_every_edit_from_any_path(live):
    # Given the bakery signed in with Mastodon.py, and a post of it
    _owner, token = await business_with_token(live.client)
    call = await calls_as(live, token)
    status = await call("status_post", "Sourdough at 8", spoiler_text="Bread")
    # When it was never edited, the history is the post alone
    [only] = await call("status_history", status.id)
    assert "Sourdough at 8" in only.content and only.spoiler_text == "Bread"

    # When the app edits it, then the owner edits it through the admin API
    await call("status_update", status.id, "Sourdough at 9", spoiler_text="Bread")
    patched = await live.client.patch(
        f"/api/v1/businesses/bakery/posts/{status.id}",
        json={"content": "Sourdough at 10"},
        headers=live.admin_headers(),
    )
    assert patched.status_code == 200, patched.text
    # Then the history holds the three versions, oldest first, each a StatusEdit
    versions = await call("status_history", status.id)
    assert [v.content for v in versions] == [
        "<p>Sourdough at 8</p>",
        "<p>Sourdough at 9</p>",
        "<p>Sourdough at 10</p>",
    ]
    assert [v.created_at for v in versions] == sorted(v.created_at for v in versions)
    assert versions[0].created_at == status.created_at
    assert all(v.account.acct == "bakery" for v in versions)
    raw = await live.client.get(f"/api/v1/statuses/{status.id}/history")
    for edit in raw.json():
        assert entity_gaps(return_types.StatusEdit, edit) == []
    # And the status itself says it was edited, at the last version's time
    current = await call("status", status.id)
    assert current.edited_at == versions[-1].created_at

    # When the post is deleted, its history is gone with it
    await call("status_delete", status.id)
    with pytest.raises(MastodonNotFoundError):
        await call("status_history", status.id)


async def test_history_refuses_unknown_hidden_and_out_of_scope_reads(live):
    # Given a followers-only post of the bakery, and the florist's app
    owner, token = await business_with_token(live.client)
    _other, florist = await business_with_token(live.client, "florist")
    narrow = await token_for(live.client, owner, scopes="read:accounts write")
    bakery = await calls_as(live, token)
    hidden = await bakery("status_post", "Staff party", visibility="private")
    # Then an unknown id is 404, another business's token cannot see it (404), nor can an
    # app without a token, and a token without read:statuses is refused (403)
    with pytest.raises(MastodonNotFoundError):
        await bakery("status_history", "123456789")
    with pytest.raises(MastodonNotFoundError):
        await (await calls_as(live, florist))("status_history", hidden.id)
    anonymous = await live.client.get(f"/api/v1/statuses/{hidden.id}/history")
    assert anonymous.status_code == 404 and "error" in anonymous.json()
    with pytest.raises(MastodonAPIError) as refused:
        await (await calls_as(live, narrow))("status_history", hidden.id)
    assert refused.value.args[1] == 403
    bad = await live.client.get(
        "/api/v1/statuses/x/history", headers={"Authorization": f"Bearer {token}"}
    )
    assert bad.status_code in (400, 404) and "error" in bad.json()
