"""A received note's parts as every page shows them: custom emoji, poll and attachments.

One place for the owner's inbox and post page (through the admin API's JSON) and the
public post page, so a reply reads the same wherever it is shown:

- custom emoji: ``:code:`` becomes the cached picture at ``/proxy/emoji/{digest}`` (this
  site; inbound/emoji.py fetched it under the guard, size-checked), only when the cache kept
  it; a refused or missing one stays as its text;
- a poll: each option's votes and share, when it closes, whether it has;
- attachments: links to where they are (never copied, never shown inline: pages load
  images from this site only), with their descriptions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape
from typing import Any

from fedi_town.protocol.note_parts import Poll
from fedi_town.protocol.vocabulary import iso8601
from fedi_town.store import emojis as store_emojis
from fedi_town.store.db import Store
from fedi_town.text.emoji import emojify


def web_link(url: Any) -> str | None:
    """``url`` if it is a web address (http or https), else None: never a ``javascript:``."""
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")):
        return url
    return None


async def kept_emoji(store: Store, emoji_lists: Iterable[Any]) -> dict[str, str]:
    """icon URL -> ``/proxy/emoji/{digest}`` for each custom emoji of these stored lists
    (``[{shortcode, url}]``) that the cache holds; one query for them all."""
    icons: dict[str, str] = {}
    for emojis in emoji_lists:
        for emoji in emojis if isinstance(emojis, list) else []:
            if isinstance(emoji, dict) and isinstance(emoji.get("url"), str):
                icons[emoji["url"]] = store_emojis.digest_of(emoji["url"])
    if not icons:
        return {}
    cached = await store_emojis.known(store, set(icons.values()))
    return {
        url: f"/proxy/emoji/{digest}"
        for url, digest in icons.items()
        if digest in cached and cached[digest].state == "ok"
    }


def shortcodes(emojis: Any, kept: dict[str, str]) -> dict[str, str]:
    """shortcode -> cached path for the emoji of one stored list that the cache holds."""
    return {
        str(e["shortcode"]): kept[e["url"]]
        for e in (emojis if isinstance(emojis, list) else [])
        if isinstance(e, dict) and e.get("url") in kept and isinstance(e.get("shortcode"), str)
    }


def with_emoji(html: str, emojis: Any, kept: dict[str, str]) -> str:
    """Sanitised ``html`` with its known ``:code:`` shown as the cached pictures."""
    return emojify(html, shortcodes(emojis, kept))


def summary_html(summary: str | None, emojis: dict[str, str]) -> str | None:
    """A content warning (plain text) as HTML: escaped, its known ``:code:`` shown as the
    cached pictures (``emojis``: shortcode -> path, as ``shortcodes`` gives)."""
    if not summary:
        return None
    return emojify(escape(summary), emojis)


def poll_json(data: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """A received poll as the owner sees it: each option's votes and share (whole percent of
    the votes, or of the voters when several choices are allowed and their number is known,
    as Mastodon counts), when it closes (or closed: ``expires_at``), and whether it has."""
    stored = Poll.from_json(data)
    votes = sum(o.votes for o in stored.options)
    total = stored.voters if stored.multiple and stored.voters else votes
    ends = stored.ends_at
    closed = stored.closed or (ends is not None and ends <= now_ms)
    return {
        "options": [
            {
                "title": o.title,
                "votes_count": o.votes,
                "percent": round(100 * o.votes / total) if total else 0,
            }
            for o in stored.options
        ],
        "multiple": stored.multiple,
        "votes_count": votes,
        "voters_count": stored.voters,
        "expires_at": iso8601(ends) if ends else None,
        "closed": closed,
    }


def poll_display(poll: Any, when: Callable[[str], str]) -> dict[str, Any] | None:
    """A poll (``poll_json``'s shape) for a page: options with votes and bars, and when it
    closes (``when`` says an ISO time as the page's reader says it)."""
    if not isinstance(poll, dict):
        return None
    options = [
        {
            "title": str(o.get("title", "")),
            "votes": int(o.get("votes_count") or 0),
            "percent": max(0, min(100, int(o.get("percent") or 0))),
        }
        for o in poll.get("options", [])
        if isinstance(o, dict)
    ]
    moment = poll.get("expires_at")
    voters = poll.get("voters_count")
    votes = int(poll.get("votes_count") or 0)
    people = voters if isinstance(voters, int) else votes
    return {
        "options": options,
        "multiple": bool(poll.get("multiple")),
        "closed": bool(poll.get("closed")),
        "when": when(moment) if isinstance(moment, str) and moment else "",
        "at": moment or "",
        "count": f"{people} {'person' if people == 1 else 'people'}"
        if isinstance(voters, int)
        else f"{votes} vote{'' if votes == 1 else 's'}",
    }


def attachments_display(attachments: Any) -> list[dict[str, str]]:
    """Received attachments as links to where they are (not copied here), described."""
    shown = []
    for item in attachments if isinstance(attachments, list) else []:
        link = web_link(item.get("url")) if isinstance(item, dict) else None
        if link:
            kind = str(item.get("media_type") or "").split("/")[0]
            label = {"image": "Picture", "video": "Video", "audio": "Sound"}.get(kind, "File")
            shown.append(
                {"url": link, "label": label, "description": str(item.get("description") or "")}
            )
    return shown
