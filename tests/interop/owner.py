"""The owner's side of an interop scenario: a business on a live fedi-town, driven only through
the admin API as a real owner would (schemas/admin-api.openapi.yaml), and small waits on
what fedi-town did with what Fedify sent.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from tests.interop.harness import FedifyClient
from tests.live import LiveInstance, wait_until

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def png_bytes(
    size: tuple[int, int] = (8, 6), colour: tuple[int, int, int] = (200, 120, 40)
) -> bytes:
    """A small real PNG (the media API judges the type by the bytes)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


@dataclass
class Owner:
    """A business and the owner token that runs it."""

    live: LiveInstance
    username: str
    token: str

    @classmethod
    async def create(cls, live: LiveInstance, username: str = "bakery", **extra: Any) -> Owner:
        data = await live.create_business(username, **extra)
        return cls(live, username, data["owner_token"])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def actor(self) -> str:
        return str(self.live.urls.actor(self.username))

    @property
    def followers_uri(self) -> str:
        return str(self.live.urls.followers(self.username))

    @property
    def base(self) -> str:
        return f"/api/v1/businesses/{self.username}"

    async def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        response = await self.live.client.request(
            method, self.base + path, headers=self.headers, **kwargs
        )
        assert response.status_code == expect, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    # -- posts ---------------------------------------------------------------------------
    async def post(self, content: str, **extra: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.call(
            "POST", "/posts", 201, json={"content": content, **extra}
        )
        return result

    async def edit(self, post_id: str, **changes: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("PATCH", f"/posts/{post_id}", json=changes)
        return result

    async def delete(self, post_id: str) -> None:
        await self.call("DELETE", f"/posts/{post_id}", 204)

    async def read(self, post_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", f"/posts/{post_id}")
        return result

    async def upload_png(self, description: str = "A loaf on the counter") -> dict[str, Any]:
        files = {"file": ("loaf.png", png_bytes(), "image/png")}
        result: dict[str, Any] = await self.call(
            "POST", "/media", 201, files=files, data={"description": description}
        )
        return result

    # -- profile and followers ------------------------------------------------------------
    async def change_profile(self, **changes: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("PATCH", "", json=changes)
        return result

    async def notifications(self, types: str | None = None) -> list[dict[str, Any]]:
        query = {"types": types} if types else {}
        page = await self.call("GET", "/notifications", params=query)
        items: list[dict[str, Any]] = page["items"]
        return items

    async def followers(self) -> list[str]:
        page = await self.call("GET", "/followers")
        return [item["account"]["id"] for item in page["items"]]

    async def follow_requests(self) -> list[dict[str, Any]]:
        page = await self.call("GET", "/follow_requests")
        items: list[dict[str, Any]] = page["items"]
        return items

    async def accept(self, request_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("POST", f"/follow_requests/{request_id}/accept")
        return result

    # -- waits ----------------------------------------------------------------------------
    async def wait_for_notification(self, kind: str, count: int = 1) -> list[dict[str, Any]]:
        async def found() -> list[dict[str, Any]]:
            items = await self.notifications(kind)
            return items if len(items) >= count else []

        result: list[dict[str, Any]] = await wait_until(found, timeout=15, interval=0.05)
        return result

    async def wait_for_counts(self, post_id: str, **expected: int) -> dict[str, Any]:
        """Wait until GET …/posts/{id} shows ``expected`` (e.g. likes_count=1)."""

        async def matches() -> dict[str, Any] | None:
            post = await self.read(post_id)
            return post if all(post[k] == v for k, v in expected.items()) else None

        result: dict[str, Any] = await wait_until(matches, timeout=15, interval=0.05)
        return result

    async def wait_for_followers(self, expected: list[str]) -> None:
        async def matches() -> bool:
            return await self.followers() == expected

        await wait_until(matches, timeout=15, interval=0.05)


async def followed_by_fedify(owner: Owner, fedify: FedifyClient) -> dict[str, Any]:
    """Fedify follows the business (auto-approval) and has recorded the Accept."""
    result = await fedify.follow(owner.actor)
    assert result["ok"], result
    [accept] = await fedify.wait_for("Accept")
    await owner.wait_for_followers([fedify.actor_id])
    return accept


async def fedify_received(
    fedify: FedifyClient, kind: str, predicate: Any = None, timeout: float = 15.0
) -> dict[str, Any]:
    """The one activity of ``kind`` Fedify received that matches ``predicate(json)``."""

    async def matching() -> list[dict[str, Any]]:
        return [
            a
            for a in await fedify.received()
            if a["type"] == kind and (predicate is None or predicate(a["json"]))
        ]

    found: list[dict[str, Any]] = await wait_until(matching, timeout=timeout, interval=0.1)
    assert len(found) == 1, found
    return found[0]
