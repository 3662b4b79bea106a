"""What to do after a delivery attempt: a pure decision, tested as a table.

    2xx                         done
    429, 503                    wait for Retry-After (else back off), then try again
    408, 5xx (not 501)          back off exponentially with jitter, capped, then try again
    timeout / connect / network back off, as for 5xx
    410                         the receiving actor is gone: drop it as follower, stop
    other 4xx, 501, 3xx         stop: the receiver refuses this for good (401 already came
                                back for both signature schemes; see remote.knock)
    refused address             stop: our SSRF guard will never allow it

A delivery that keeps failing gives up once it is older than ``GIVE_UP_AFTER_MS``
(about three days, like Mastodon's 16 retries).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal["done", "retry", "give_up", "gone"]

BASE_DELAY_MS = 30_000
MAX_DELAY_MS = 6 * 3600_000
GIVE_UP_AFTER_MS = 3 * 24 * 3600_000
MAX_RETRY_AFTER_MS = 24 * 3600_000
RETRYABLE_ERRORS = frozenset({"timeout", "connect", "network", "protocol"})


@dataclass(frozen=True)
class Decision:
    action: Action
    next_attempt_at: int | None = None
    reason: str = ""


def backoff_ms(attempts: int, jitter: float) -> int:
    """Delay before attempt ``attempts + 1``: 30 s doubling to 6 h, ±20% by ``jitter`` in [0,1)."""
    delay = min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** max(0, min(attempts - 1, 20)))
    return int(delay * (0.8 + 0.4 * jitter))


def decide(
    *,
    status: int | None,
    error: str | None,
    retry_after_s: float | None,
    attempts: int,
    created_at: int,
    now: int,
    jitter: float,
) -> Decision:
    """The fate of a delivery after attempt number ``attempts`` (1 for the first)."""
    if status is not None and 200 <= status < 300:
        return Decision("done", reason=str(status))
    if status == 410:
        return Decision("gone", reason="410")
    if status is None and error not in RETRYABLE_ERRORS:
        return Decision("give_up", reason=error or "refused")
    if status is not None and not _retryable_status(status):
        return Decision("give_up", reason=str(status))
    reason = str(status) if status is not None else str(error)
    if now - created_at >= GIVE_UP_AFTER_MS:
        return Decision("give_up", reason=f"{reason}; gave up after 3 days")
    if status in (429, 503) and retry_after_s is not None and retry_after_s >= 0:
        wait = min(int(retry_after_s * 1000), MAX_RETRY_AFTER_MS)
        return Decision("retry", now + max(wait, 1_000), reason)
    return Decision("retry", now + backoff_ms(attempts, jitter), reason)


def _retryable_status(status: int) -> bool:
    if status in (408, 429):
        return True
    return 500 <= status < 600 and status != 501
