"""A real S3-protocol server on loopback for the tests: moto's, in a thread, one per test
process (started with the first test that asks), and a fresh bucket per test.

Fixtures (registered by tests/conftest.py's ``pytest_plugins``):

- ``s3_server``: the endpoint URL of the running server;
- ``s3_settings``: the ``Settings`` overrides (``make_settings(..., **s3_settings)``,
  ``live_instance(..., **s3_settings)``) of a new, empty bucket on it;
- ``s3_objects``: a function listing that bucket's objects as {key: bytes}, read with
  boto3 (another client than the one under test).
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

ACCESS_KEY_ID = "fedi-town-test-key"
#: a made-up secret the tests look for in messages and logs (it must never appear there)
SECRET_ACCESS_KEY = "s3cr3t-" + "x" * 33
REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )


def bucket_settings(endpoint: str, bucket: str) -> dict[str, Any]:
    return {
        "media_storage": "s3",
        "s3_endpoint": endpoint,
        "s3_bucket": bucket,
        "s3_region": REGION,
        "s3_access_key_id": ACCESS_KEY_ID,
        "s3_secret_access_key": SECRET_ACCESS_KEY,
    }


@pytest.fixture
def s3_settings(s3_server: str) -> dict[str, Any]:
    bucket = f"media-{secrets.token_hex(6)}"
    client(s3_server).create_bucket(Bucket=bucket)
    return bucket_settings(s3_server, bucket)


@pytest.fixture
def s3_objects(s3_settings: dict[str, Any]) -> Callable[[], dict[str, bytes]]:
    def objects() -> dict[str, bytes]:
        s3 = client(s3_settings["s3_endpoint"])
        bucket = s3_settings["s3_bucket"]
        listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        return {
            item["Key"]: s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            for item in listed
        }

    return objects


@pytest.fixture
def unreachable_s3() -> dict[str, Any]:
    """Settings of a bucket at an endpoint where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return bucket_settings(f"http://127.0.0.1:{port}", "gone")
