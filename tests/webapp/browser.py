"""What the browser tests share: Debian's chromium, joining by invite as a person would, and
a watch on the page for script errors and failed requests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from playwright.async_api import Page

from tests.webapp.kit import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
MISSING = "chromium is missing: `make browser` installs it"


async def owner_invite(live: Any, business: str = "bakery", role: str = "owner") -> str:
    """An invite link for a person of ``business``, made by the admin through the API."""
    made = await live.client.post(
        "/api/v1/admin/invites",
        json={"role": role, "business": business},
        headers=live.admin_headers(),
    )
    assert made.status_code == 201, made.text
    url: str = made.json()["url"]
    return url


async def join(page: Page, link: str, name: str = "Anna", login: str = "anna") -> None:
    """Open an invite link, choose a name, sign-in name and ``PASSWORD``, and join."""
    await page.goto(link)
    await page.get_by_label("Your name").fill(name)
    await page.get_by_label("Sign-in name").fill(login)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_label("The same password again").fill(PASSWORD)
    await page.get_by_role("button", name="Join and sign in").click()


def watch(page: Page) -> list[str]:
    """Script errors and failed requests of ``page``, as they happen (the test asserts the
    list stays empty)."""
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    return problems
