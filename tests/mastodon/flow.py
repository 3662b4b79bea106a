"""Signing an app in as a business, the way a phone does it: register the app, open the
consent page in a "browser" (an httpx client with cookies that signs in with the owner
app's real form), allow, and swap the code for a token.

    app = await register(live.client, scopes="read write")
    owner = await owner_of(live.client, "bakery")           # tests/webapp/kit.py
    code = await consent(owner, app, scope="read write")     # the code from the redirect
    token = await exchange(live.client, app, code)
"""

from __future__ import annotations

import ast
import base64
import hashlib
import itertools
import re
import secrets
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from mastodon import return_types

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
