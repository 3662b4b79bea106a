"""The retry policy, as a table: each answer a receiving server can give, and our move."""

from __future__ import annotations

import pytest

from fedi_town.outbound.retry import GIVE_UP_AFTER_MS, MAX_DELAY_MS, backoff_ms, decide

NOW = 10_000_000_000


@pytest.mark.parametrize(
    ("status", "error", "retry_after", "action", "wait_ms"),
    [
        (200, None, None, "done", None),
        (202, None, None, "done", None),
        (204, None, None, "done", None),
        (429, None, 120.0, "retry", 120_000),
        (503, None, 30.0, "retry", 30_000),
        (429, None, None, "retry", "backoff"),
        (503, None, 0.0, "retry", 1_000),
        (410, None, None, "gone", None),
        (401, None, None, "give_up", None),
        (403, None, None, "give_up", None),
        (404, None, None, "give_up", None),
        (400, None, None, "give_up", None),
        (422, None, None, "give_up", None),
        (501, None, None, "give_up", None),
        (301, None, None, "give_up", None),
        (408, None, None, "retry", "backoff"),
        (500, None, None, "retry", "backoff"),
        (502, None, None, "retry", "backoff"),
        (504, None, None, "retry", "backoff"),
        (None, "timeout", None, "retry", "backoff"),
        (None, "connect", None, "retry", "backoff"),
        (None, "network", None, "retry", "backoff"),
        (None, "forbidden", None, "give_up", None),
    ],
)
def test_each_answer_leads_to_its_move(status, error, retry_after, action, wait_ms):
    decision = decide(
        status=status,
        error=error,
        retry_after_s=retry_after,
        attempts=1,
        created_at=NOW,
        now=NOW,
        jitter=0.5,
    )
    assert decision.action == action
    if wait_ms == "backoff":
        assert decision.next_attempt_at == NOW + backoff_ms(1, 0.5)
    elif wait_ms is not None:
        assert decision.next_attempt_at == NOW + wait_ms
    else:
        assert decision.next_attempt_at is None


def test_backoff_doubles_and_is_capped_with_jitter():
    assert backoff_ms(1, 0.5) == 30_000
    assert backoff_ms(2, 0.5) == 60_000
    assert backoff_ms(3, 0.5) == 120_000
    assert backoff_ms(30, 0.5) == MAX_DELAY_MS
    assert backoff_ms(1, 0.0) == 24_000
    assert backoff_ms(1, 0.999) < 36_000


def test_a_delivery_older_than_three_days_gives_up():
    decision = decide(
        status=500,
        error=None,
        retry_after_s=None,
        attempts=17,
        created_at=NOW - GIVE_UP_AFTER_MS,
        now=NOW,
        jitter=0.5,
    )
    assert decision.action == "give_up"


def test_a_huge_retry_after_is_capped_at_a_day():
    decision = decide(
        status=429, error=None, retry_after_s=10**9, attempts=1, created_at=NOW, now=NOW, jitter=0
    )
    assert decision.next_attempt_at == NOW + 24 * 3600_000
