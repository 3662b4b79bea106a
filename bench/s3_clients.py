"""Compare the S3 client libraries for the media store: obstore against aiobotocore.

    .venv/bin/python -m bench.s3_clients

For each: import time and RSS growth of importing it and making a client in a fresh
interpreter (after fedi_town.app, as a web process would be), then puts and gets of a 200 KB
object (a typical processed photo) against moto's S3 server on loopback. The figures and the
choice are in docs/performance.md ("S3 client for media").
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Any

from moto.server import ThreadedMotoServer

ROUNDS = 200
SIZE = 200 * 1024

_IMPORT = {
    "obstore": (
        "import obstore\nfrom obstore.store import S3Store\n"
        "S3Store('b', endpoint='http://127.0.0.1:1', region='us-east-1',"
        " access_key_id='a', secret_access_key='s', client_options={'allow_http': True})"
    ),
    "aiobotocore": (
        "import asyncio\nfrom aiobotocore.session import get_session\n"
        "async def make():\n"
        "    return await get_session().create_client('s3', endpoint_url='http://127.0.0.1:1',"
        " region_name='us-east-1', aws_access_key_id='a', aws_secret_access_key='s')"
        ".__aenter__()\n"
        "client = asyncio.run(make())"
    ),
}

_PROBE = """
import json, time, resource
def rss():
    found = {}
    for line in open('/proc/self/status'):
        if line.startswith(('VmRSS:', 'RssAnon:', 'RssFile:')):
            key, value = line.split(':')
            found[key] = int(value.split()[0]) / 1024
    return found
import fedi_town.app
before = rss()
t = time.perf_counter()
exec(CODE)
took = time.perf_counter() - t
print(json.dumps({"import_s": took, "rss_before": before, "rss_after": rss()}))
"""


def _import_cost(name: str) -> dict[str, Any]:
    code = _PROBE.replace("CODE", repr(_IMPORT[name]))
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        runs.append(json.loads(out))
    runs.sort(key=lambda r: r["import_s"])
    middle: dict[str, Any] = runs[1]
    return middle


async def _obstore_speed(endpoint: str) -> tuple[float, float]:
    import obstore
    from obstore.store import S3Store

    store = S3Store(
        "bench",
        endpoint=endpoint,
        region="us-east-1",
        access_key_id="a",
        secret_access_key="s",
        client_options={"allow_http": True},
    )
    data = os.urandom(SIZE)
    started = time.perf_counter()
    for i in range(ROUNDS):
        await obstore.put_async(store, f"o{i}", data)
    put = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(ROUNDS):
        got = await obstore.get_async(store, f"o{i}")
        await got.bytes_async()
    return put, time.perf_counter() - started


async def _botocore_speed(endpoint: str) -> tuple[float, float]:
    from aiobotocore.session import get_session

    async with get_session().create_client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="a",
        aws_secret_access_key="s",
    ) as client:
        data = os.urandom(SIZE)
        started = time.perf_counter()
        for i in range(ROUNDS):
            await client.put_object(Bucket="bench", Key=f"b{i}", Body=data)
        put = time.perf_counter() - started
        started = time.perf_counter()
        for i in range(ROUNDS):
            answer = await client.get_object(Bucket="bench", Key=f"b{i}")
            async with answer["Body"] as body:
                await body.read()
        return put, time.perf_counter() - started


def main() -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        import boto3

        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="a",
            aws_secret_access_key="s",
        ).create_bucket(Bucket="bench")
        for name, speed in (("obstore", _obstore_speed), ("aiobotocore", _botocore_speed)):
            cost = _import_cost(name)
            put, get = asyncio.run(speed(endpoint))
            before, after = cost["rss_before"], cost["rss_after"]
            growth = ", ".join(f"{key} {before[key]:.1f} -> {after[key]:.1f} MB" for key in before)
            print(
                f"{name}: import+client {cost['import_s'] * 1000:.0f} ms, {growth}, "
                f"{ROUNDS} puts of {SIZE // 1024} KB {put:.2f} s ({ROUNDS / put:.0f}/s), "
                f"{ROUNDS} gets {get:.2f} s ({ROUNDS / get:.0f}/s)"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
