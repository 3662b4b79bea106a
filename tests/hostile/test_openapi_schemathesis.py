"""Schemathesis against the admin API's served OpenAPI description, on a live instance.

The description is fetched from ``/api/v1/openapi.json`` of a real fedi-town under uvicorn
on loopback (both backends). Every operation gets schema-valid (positive) and schema-breaking
(negative) requests, with an owner token and with the admin token, and each answer must:

- never be a 5xx (``not_a_server_error``);
- have a status the description lists for the operation (``status_code_conformance``);
- have the content type it declares, and a body that matches its schema
  (``content_type_conformance``, ``response_schema_conformance``).

A failure in the last two means the description is wrong: it is part of the product, so the
fix goes to ``schemas/``. Request bodies never mention ``@user@host`` nor reply to a remote
URL, nor like or boost one: those would be network lookups, which belong to the federation tests.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.live import live_instance
from tests.reliability import record

pytestmark = pytest.mark.anyio

EXAMPLES = 5
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
ADMIN_ONLY = ("/api/v1/admin/", "/api/v1/openapi.json")
#: Operations that end what the others need (the business, its owner token): run last,
#: against a business of their own.
LAST = ("POST /api/v1/businesses/{username}/token", "DELETE /api/v1/businesses/{username}")


def _tame(value: Any, base_url: str) -> Any:
    """A body that names no remote account and replies to nothing remote (see above)."""
    if isinstance(value, str):
        return value.replace("@", "(at)")
    if isinstance(value, list):
        return [_tame(v, base_url) for v in value]
    if isinstance(value, dict):
        tamed = {k: _tame(v, base_url) for k, v in value.items()}
        if isinstance(tamed.get("in_reply_to"), str):
            tamed["in_reply_to"] = f"{base_url}/users/bakery/statuses/1"
        if isinstance(tamed.get("object"), str):  # a post liked or boosted: one here
            tamed["object"] = f"{base_url}/users/bakery/statuses/1"
        return tamed
    return value


def run_operations(base_url: str, tokens: dict[str, str]) -> tuple[dict[str, int], dict[str, int]]:
    """Every operation, positive and negative, with each token that may call it; returns how
    many requests each outcome class got. Runs in a thread: the server is on the loop."""
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    operations = [op.ok() for op in schema.get_all_operations()]
    operations.sort(key=lambda op: LAST.index(op.label) + 1 if op.label in LAST else 0)
    outcomes: dict[str, int] = {}
    failures: dict[str, int] = {}
    session = requests.Session()
    for operation in operations:
        admin_only = operation.path.startswith(ADMIN_ONLY) or operation.path == "/api/v1/businesses"
        who = ["admin"] if admin_only else ["owner", "admin"]
        username = "doomed" if operation.label in LAST else "bakery"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for token in who:
                strategy = operation.as_strategy(
                    generation_mode=mode,
                    path_parameters={"username": username}
                    if "{username}" in operation.path
                    else None,
                )
                owner = tokens["owner"] if username == "bakery" else tokens["doomed"]
                secret = tokens["admin"] if token == "admin" else owner
                headers = {"Authorization": f"Bearer {secret}"}

                @settings(
                    max_examples=EXAMPLES,
                    deadline=None,
                    derandomize=True,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=strategy)
                def check(case: Any) -> None:
                    if isinstance(case.body, dict | list):
                        case.body = _tame(case.body, base_url)
                    response = case.call(base_url=base_url, headers=headers, session=session)
                    status = response.status_code
                    record("openapi", f"{mode.value} {operation.label}", str(status))
                    key = f"{mode.value} {status // 100}xx"
                    outcomes[key] = outcomes.get(key, 0) + 1
                    try:
                        case.validate_response(response, checks=CHECKS, headers=headers)
                    except FailureGroup as group:
                        failures.setdefault(f"{operation.label}: {group.exceptions[0]}", status)

                check()
    return outcomes, failures


async def test_the_admin_api_answers_as_its_openapi_description_says(database_url, tmp_path):
    # Given a live instance with a business, its owner token, and a second business
    async with live_instance(database_url, tmp_path, worker="off") as live:
        bakery = await live.create_business("bakery")
        doomed = await live.create_business("doomed")
        tokens = {
            "admin": live.settings.admin_token,
            "owner": bakery["owner_token"],
            "doomed": doomed["owner_token"],
        }
        # When schemathesis calls every operation with generated requests
        with anyio.fail_after(240):
            outcomes, failures = await anyio.to_thread.run_sync(
                run_operations, live.base_url, tokens
            )
    # Then every answer passed the checks, and both kinds of request ran
    assert not failures, "\n".join(failures)
    assert any(k.startswith("positive 2") for k in outcomes), outcomes
    assert any(k.startswith("negative 4") for k in outcomes), outcomes
    assert not any(k.endswith("5xx") for k in outcomes), outcomes
