"""The signing threads: calls run off the event loop, answers and errors come back."""

from __future__ import annotations

import asyncio
import gc
import threading

import pytest

from fedi_town.remote.signing_pool import SigningPool


def _thread_name(tag: str) -> str:
    return f"{tag} on {threading.current_thread().name}"


def _refuse(_: str) -> str:
    raise ValueError("this key cannot sign")


@pytest.mark.anyio
async def test_calls_run_in_the_pools_threads_and_their_answers_come_back() -> None:
    # Given a pool of two threads
    pool = SigningPool(2, name="test-sign")
    try:
        # When many calls are handed over at once
        answers = await asyncio.gather(*(pool.run(_thread_name, str(n)) for n in range(50)))
    finally:
        pool.shutdown()
    # Then each answer is its own call's, made on one of the pool's threads
    assert [a.split(" on ")[0] for a in answers] == [str(n) for n in range(50)]
    assert {a.split(" on ")[1] for a in answers} <= {"test-sign_0", "test-sign_1"}


@pytest.mark.anyio
async def test_an_error_in_a_call_is_raised_to_its_caller() -> None:
    pool = SigningPool(1)
    try:
        with pytest.raises(ValueError, match="cannot sign"):
            await pool.run(_refuse, "x")
        # and the thread goes on serving
        assert (await pool.run(_thread_name, "next")).startswith("next on ")
    finally:
        pool.shutdown()


@pytest.mark.anyio
async def test_a_shut_down_pool_takes_no_more_calls_and_its_threads_end() -> None:
    pool = SigningPool(2, name="test-ending")
    await pool.run(_thread_name, "warm")
    pool.shutdown()
    with pytest.raises(RuntimeError):
        await pool.run(_thread_name, "late")
    for thread in pool._threads:
        thread.join(timeout=5)
        assert not thread.is_alive()


def test_a_pool_that_never_signs_starts_no_thread() -> None:
    pool = SigningPool(4)
    pool.shutdown()
    assert pool._threads == []


@pytest.mark.anyio
async def test_the_threads_of_a_pool_dropped_without_shutdown_end() -> None:
    # Given a pool that signed, then was dropped without a shutdown
    pool = SigningPool(2)
    await asyncio.gather(*(pool.run(_thread_name, str(n)) for n in range(4)))
    threads = list(pool._threads)
    del pool
    gc.collect()
    # Then its threads end
    for thread in threads:
        thread.join(timeout=5)
        assert not thread.is_alive()
