"""The signing + HTTP ceiling of fan-out: sign and POST each inbox once, no database.

    python -m bench.delivery_ceiling JOB.json

JOB.json holds ``inboxes`` (URLs), ``body`` (the activity, as fedi-town sent it),
``private_pem`` / ``key_id`` (the sender), ``concurrency`` and ``transport``:

- ``remote``: fedi-town's own client stack, ``RemoteClient.post_activity`` with a
  ``KeySigner`` (aiohttp over the SSRF-guarded connector) and fedi-town's connection limits
  (``lifecycle.client_limits``), exactly what a delivery runs;
- ``remote-httpx``: the same on httpx over ``ssrf.GuardedTransport`` (what deliveries used
  before, and still ``deliver_over="httpx"``);
- ``httpx-aiohttp``: the same ``RemoteClient`` on the ``httpx_aiohttp`` transport (needs
  that package; URL checks still apply, address pinning does not);
- ``aiohttp``: a plain aiohttp session signing with ``httpsig.sign_request`` (needs aiohttp).

``sign_threads`` (default 0: sign on the event loop, one core) gives the ``remote``
transports a signing thread pool, as ``FEDI_TOWN_SIGN_THREADS`` does for fedi-town.

``concurrency`` tasks take inboxes from one list until it is empty. Prints one JSON line:
count, seconds, statuses, errors, CPU seconds of this process. With ``start_at`` (a
``time.time()``), the clock starts then, not before: several of these processes, each
given a share of the inboxes, start posting together (the two-process ceiling).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.machine import self_cpu_seconds


async def _remote(job: dict[str, Any], transport: str) -> Counter[str]:
    from fedi_town.lifecycle import client_limits
    from fedi_town.remote.http import RemoteClient
    from fedi_town.remote.signers import KeySigner

    extra: dict[str, Any] = {}
    if transport == "httpx-aiohttp":
        from httpx_aiohttp import AiohttpTransport

        extra["transport"] = AiohttpTransport()
    elif transport == "remote-httpx":
        extra["deliver_over"] = "httpx"
    extra["sign_threads"] = int(job.get("sign_threads", 0))
    extra.update(client_limits())  # the connection limits fedi-town's client has
    signer = KeySigner(job["key_id"], job["private_pem"], lambda: datetime.now(UTC))
    body = job["body"].encode()
    inboxes = iter(job["inboxes"])
    outcomes: Counter[str] = Counter()
    async with RemoteClient(allow_private=True, user_agent="fedi-town-bench", **extra) as client:

        async def sender() -> None:
            for inbox in inboxes:
                result = await client.post_activity(inbox, body, signer=signer)
                outcomes[str(result.status or result.error)] += 1

        await asyncio.gather(*(sender() for _ in range(job["concurrency"])))
    return outcomes


async def _aiohttp(job: dict[str, Any]) -> Counter[str]:
    import aiohttp

    from fedi_town.protocol import httpsig
    from fedi_town.protocol.keys import load_private_key

    key = load_private_key(job["private_pem"])
    body = job["body"].encode()
    inboxes = iter(job["inboxes"])
    outcomes: Counter[str] = Counter()
    timeout = aiohttp.ClientTimeout(total=30, connect=5, sock_read=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def sender() -> None:
            for inbox in inboxes:
                headers = httpsig.sign_request(
                    "POST", inbox, {"Content-Type": "application/activity+json"}, body,
                    key_id=job["key_id"], private_key=key, now=datetime.now(UTC),
                )  # fmt: skip
                try:
                    async with session.post(inbox, data=body, headers=headers) as response:
                        await response.read()
                        outcomes[str(response.status)] += 1
                except (aiohttp.ClientError, TimeoutError) as exc:
                    outcomes[exc.__class__.__name__] += 1

        await asyncio.gather(*(sender() for _ in range(job["concurrency"])))
    return outcomes


def run(job: dict[str, Any]) -> dict[str, Any]:
    transport = job.get("transport", "remote")
    for inbox in job["inboxes"]:
        if not inbox.startswith("http://127."):
            raise ValueError("the ceiling posts to 127.0.0.0/8 only")
    # Import before the clock starts: fedi-town's server has its modules loaded long before
    # a post, so timing the imports here (0.2-0.4 s) would lower the ceiling.
    import uvloop

    import fedi_town.lifecycle
    import fedi_town.protocol.httpsig
    import fedi_town.remote.http
    import fedi_town.remote.signers  # noqa: F401

    if transport == "aiohttp":
        import aiohttp  # noqa: F401
    if "start_at" in job:
        time.sleep(max(0.0, job["start_at"] - time.time()))
    cpu = self_cpu_seconds()
    started = time.perf_counter()
    if transport == "aiohttp":
        coro = _aiohttp(job)
    else:
        coro = _remote(job, transport)
    outcomes = uvloop.run(coro)
    seconds = time.perf_counter() - started
    return {
        "count": len(job["inboxes"]),
        "seconds": seconds,
        "outcomes": dict(outcomes),
        "cpu_s": self_cpu_seconds() - cpu,
    }


def main() -> int:
    job = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(run(job)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
