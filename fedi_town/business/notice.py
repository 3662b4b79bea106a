"""A business's temporary notice ("Sold out today", "Back at 14:00"), gone by itself at its end.

Stored as ``notice_text`` and ``notice_until`` (epoch ms, or None: until removed). Nothing
deletes an expired notice: every reader asks ``current_notice`` with the time it serves,
so it vanishes at ``until`` to the millisecond, and the worker re-sends the actor then
(``hours.next_change_ms`` takes ``notice_until``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fedi_town.business.hours import Problem

MAX_TEXT_LENGTH = 500


def current_notice(text: str | None, until: int | None, now_ms: int) -> str | None:
    """The notice's text if it is still current at ``now_ms``, else None."""
    if not text:
        return None
    if until is not None and until <= now_ms:
        return None
    return text


def parse_notice(
    value: Any, now_ms: int, pointer: str = "/notice"
) -> tuple[str | None, int | None, list[Problem]]:
    """``{"text", "until"}`` (``until`` ISO 8601 with an offset, in the future, or absent)
    or None -> (notice_text, notice_until ms, problems)."""
    if value is None:
        return None, None, []
    if not isinstance(value, dict):
        return None, None, [Problem(pointer, "must be {text, until} or null")]
    problems = []
    text = value.get("text")
    if not (isinstance(text, str) and text.strip() and len(text) <= MAX_TEXT_LENGTH):
        problems.append(Problem(f"{pointer}/text", f"text of 1 to {MAX_TEXT_LENGTH} characters"))
    problems += [
        Problem(f"{pointer}/{k}", "unknown key") for k in value if k not in ("text", "until")
    ]
    until_ms = None
    until = value.get("until")
    if until is not None:
        moment = None
        if isinstance(until, str):
            try:
                moment = datetime.fromisoformat(until.replace("Z", "+00:00"))
            except ValueError:
                moment = None
        if moment is None or moment.tzinfo is None:
            problems.append(
                Problem(f"{pointer}/until", "not a date and time with an offset (ISO 8601)")
            )
        else:
            until_ms = int(moment.timestamp() * 1000)
            if until_ms <= now_ms:
                problems.append(Problem(f"{pointer}/until", "is in the past"))
    return (text if not problems else None), until_ms, problems
