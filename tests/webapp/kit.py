"""A person in the owner's web app, as a browser without JavaScript would be: an httpx client
that keeps cookies, reads the CSRF token from the last page it saw and posts forms with it.

    person = await owner_of(app_client, "bakery")        # invited, password set, signed in
    page = await person.get("/app/bakery")
    answer = await person.submit("/app/bakery/notice", {"action": "closed"})  # 303 usually
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import httpx

from tests.conftest import admin_headers, create_business

PASSWORD = "flour, water and salt"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class AppUser:
    """One browser: its own cookies, the last page it was shown."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.http = httpx.AsyncClient(
            transport=client._transport, base_url=client.base_url, follow_redirects=False
        )
        self.last: httpx.Response | None = None

    async def close(self) -> None:
        await self.http.aclose()

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.http.get(path, **kwargs)
        self.last = response
        return response

    def csrf(self) -> str:
        assert self.last is not None, "open a page first"
        found = _CSRF.search(self.last.text)
        assert found, f"no CSRF field on {self.last.url}"
        return unescape(found.group(1))

    async def submit(
        self,
        path: str,
        data: dict[str, Any] | None = None,
        *,
        files: Any = None,
        csrf: str | None = None,
        follow: bool = False,
    ) -> httpx.Response:
        """POST a form with the last page's CSRF token (or ``csrf``); ``follow``: GET the
        303's target and return that page."""
        body = {"csrf": csrf if csrf is not None else self.csrf(), **(data or {})}
        response = await self.http.post(path, data=body, files=files)
        self.last = response
        if follow and response.status_code == 303:
            return await self.get(response.headers["location"])
        return response


async def invite_link(
    client: httpx.AsyncClient, *, business: str | None = None, role: str = "owner"
) -> str:
    """A fresh invite link made through the admin API."""
    body: dict[str, Any] = {"role": "admin" if business is None else role}
    if business is not None:
        body["business"] = business
    response = await client.post("/api/v1/admin/invites", json=body, headers=admin_headers())
    assert response.status_code == 201, response.text
    url: str = response.json()["url"]
    return url


async def accept(user: AppUser, link: str, login: str, name: str = "") -> httpx.Response:
    """Open ``link`` and join as ``login`` with ``PASSWORD``; the answer to the form."""
    path = httpx.URL(link).path
    opened = await user.get(path)
    assert opened.status_code == 200, opened.text
    return await user.submit(
        path,
        {
            "display_name": name or login.title(),
            "login": login,
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )


async def owner_of(
    client: httpx.AsyncClient,
    username: str = "bakery",
    *,
    login: str = "anna",
    role: str = "owner",
    create: bool = True,
    **extra: Any,
) -> AppUser:
    """A person of ``username`` (created first unless ``create=False``), signed in."""
    if create:
        await create_business(client, username, **extra)
    user = AppUser(client)
    answer = await accept(user, await invite_link(client, business=username, role=role), login)
    assert answer.status_code == 303, answer.text
    return user


async def admin_user(client: httpx.AsyncClient, login: str = "root") -> AppUser:
    user = AppUser(client)
    answer = await accept(user, await invite_link(client), login)
    assert answer.status_code == 303, answer.text
    return user
