"""Signing an app in as a business, the way a phone does it: register the app, open the
consent page in a "browser" (an httpx client with cookies that signs in with the owner
app's real form), allow, and swap the code for a token.

    app = await register(live.client, scopes="read write")
    owner = await owner_of(live.client, "bakery")           # tests/webapp/kit.py
    code = await consent(owner, app, scope="read write")     # the code from the redirect
    token = await exchange(live.client, app, code)

Mastodon.py signed in as a business of a live instance (the ``bakery_app`` fixture of
conftest.py is the bakery's):

    app = await signed_in(live, "florist")                   # .owner .token .api .call
    me = await app.call("account_verify_credentials")        # Mastodon.py, in a thread
    await follow_accepted(live, int(me.id), int(alice.id), "alice")
"""

from __future__ import annotations

import ast
import base64
import hashlib
import itertools
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio
import httpx
from mastodon import Mastodon, return_types

from fedi_town.store import following
from fedi_town.store.db import now_ms
from tests.webapp.kit import AppUser

REDIRECT = "https://app.example/callback"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def pkce() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def register(
    client: httpx.AsyncClient, *, scopes: str = "read write", redirect: str = REDIRECT
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/apps",
        data={"client_name": "Phone app", "redirect_uris": redirect, "scopes": scopes},
    )
    assert response.status_code == 200, response.text
    app: dict[str, Any] = response.json()
    return app


def authorize_url(app: dict[str, Any], **extra: str) -> str:
    query = {
        "client_id": app["client_id"],
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "read write",
        **extra,
    }
    return "/oauth/authorize?" + urlencode(query)


def form_fields(page: str) -> dict[str, str]:
    return {name: unescape(value) for name, value in _HIDDEN.findall(page)}


async def consent(
    user: AppUser, url: str, *, decision: str = "allow", business: str = "bakery"
) -> httpx.Response:
    """Open the consent page at ``url`` and answer it; the answer (302 to the app)."""
    page = await user.get(url)
    assert page.status_code == 200, page.text
    fields = form_fields(page.text)
    return await user.submit(
        "/oauth/authorize", {**fields, "business": business, "decision": decision}
    )


def code_from(answer: httpx.Response) -> str:
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT), location
    return parse_qs(urlsplit(location).query)["code"][0]


async def exchange(
    client: httpx.AsyncClient, app: dict[str, Any], code: str, **extra: str
) -> httpx.Response:
    body = {
        "grant_type": "authorization_code",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "redirect_uri": REDIRECT,
        "code": code,
        **extra,
    }
    return await client.post("/oauth/token", data=body)


async def token_for(
    client: httpx.AsyncClient,
    user: AppUser,
    *,
    scopes: str = "read write",
    business: str = "bakery",
) -> str:
    """A token of ``business`` (one ``user`` works at) with ``scopes``, through the flow."""
    app = await register(client, scopes=scopes)
    code = code_from(await consent(user, authorize_url(app, scope=scopes), business=business))
    answer = await exchange(client, app, code)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def business_with_token(
    client: httpx.AsyncClient, username: str = "bakery", *, scopes: str = "read write"
) -> tuple[AppUser, str]:
    """A business, its owner signed in to the owner app, and an app token of it."""
    from tests.webapp.kit import owner_of

    owner = await owner_of(client, username, login=f"{username}-owner")
    return owner, await token_for(client, owner, scopes=scopes, business=username)


Call = Callable[..., Awaitable[Any]]


async def mastodon_py(base_url: str, token: str | None) -> Mastodon:
    """Mastodon.py for ``token`` (None: without one), made in a thread: it asks the
    instance for its version."""
    return await anyio.to_thread.run_sync(
        lambda: Mastodon(access_token=token, api_base_url=base_url)
    )


def calling(api: Mastodon) -> Call:
    """``await call("status_post", …)``: a Mastodon.py method, run in a thread (it blocks)."""

    def call(method: str, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        return anyio.to_thread.run_sync(lambda: getattr(api, method)(*args, **kwargs))

    return call


async def calls_as(live: Any, token: str | None) -> Call:
    """``calling`` of Mastodon.py for ``token`` on the live instance."""
    return calling(await mastodon_py(live.base_url, token))


@dataclass(frozen=True)
class SignedIn:
    """A business whose owner is signed in to the owner app, and Mastodon.py signed in
    as it with ``token``; ``call`` runs one of ``api``'s methods (``calling``)."""

    owner: AppUser
    token: str
    api: Mastodon
    call: Call


async def signed_in(live: Any, username: str = "bakery", *, scopes: str = "read write") -> SignedIn:
    """Make the business ``username`` on the live instance and sign Mastodon.py in as it."""
    owner, token = await business_with_token(live.client, username, scopes=scopes)
    api = await mastodon_py(live.base_url, token)
    return SignedIn(owner, token, api, calling(api))


async def follow_accepted(live: Any, business_id: int, actor_id: int, name: str) -> None:
    """Store the business following the account ``actor_id`` (``name``), accepted, as if
    its Accept had come."""
    row = await following.insert(
        live.store,
        business_id=business_id,
        actor_id=actor_id,
        follow_uri=f"{live.base_url}/follows/{name}",
        now=now_ms(),
    )
    await following.set_state(live.store, row.id, following.ACCEPTED, now=now_ms())


def _added_in() -> dict[tuple[str, str], tuple[int, ...]]:
    """(entity, field) → the Mastodon version that added it, from the version history in
    each field's docstring in Mastodon.py's ``return_types.py``."""
    tree = ast.parse(Path(return_types.__file__).read_text())
    found: dict[tuple[str, str], tuple[int, ...]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        body = node.body
        for here, after in itertools.pairwise(body):
            if not (isinstance(here, ast.AnnAssign) and isinstance(here.target, ast.Name)):
                continue
            if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                added = re.search(r"\* (\d+)\.(\d+)\.(\d+): added", str(after.value.value))
                if added:
                    found[(node.name, here.target.id)] = tuple(int(x) for x in added.groups())
    return found


ADDED_IN = _added_in()


def entity_gaps(entity: type, data: dict[str, Any]) -> list[str]:
    """Fields Mastodon.py declares as always present in ``entity`` (added by Mastodon 4.4)
    that ``data`` lacks."""
    return [
        name
        for name, hint in entity.__annotations__.items()
        if not str(hint).strip("'\"").startswith("Optional")
        and ADDED_IN.get((entity.__name__, name), (0,)) <= (4, 4, 0)
        and name not in data
    ]
