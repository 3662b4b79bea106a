"""The docs tell the truth: every setting in the README, every admin route in the OpenAPI."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from starlette.routing import Route

from fedi_town.app import all_routes
from fedi_town.mastodon import routes as mastodon_routes
from fedi_town.schemas import openapi_document
from fedi_town.settings import PREFIX, SETTINGS_DOC

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text()
    missing = [k for k in SETTINGS_DOC if f"`{PREFIX}{k}`" not in readme]
    assert missing == []


def _app_api_routes() -> set[tuple[str, str]]:
    # The Mastodon client API is Mastodon's, documented in docs/mastodon-api.md (checked by
    # tests/mastodon/test_routes.py), not in the admin API's OpenAPI description.
    mastodon = {id(r) for r in mastodon_routes.routes}
    found = set()
    for route in all_routes():
        if id(route) in mastodon:
            continue
        if isinstance(route, Route) and route.path.startswith("/api/"):
            for method in route.methods or []:
                if method != "HEAD":
                    found.add((route.path, method.lower()))
    return found


def _documented_routes() -> set[tuple[str, str]]:
    doc = openapi_document()
    return {
        (path, method)
        for path, item in doc["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_every_admin_route_is_described_in_the_openapi_document():
    assert _app_api_routes() - _documented_routes() == set()


def test_the_openapi_document_describes_no_route_that_does_not_exist():
    assert _documented_routes() - _app_api_routes() == set()


@pytest.mark.anyio
async def test_openapi_is_served_and_created_businesses_match_their_schema(app_client):
    from tests.conftest import create_business

    served = await app_client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    doc = served.json()
    schema = doc["paths"]["/api/v1/businesses"]["post"]["responses"]["201"]["content"][
        "application/json"
    ]["schema"]
    created = await create_business(app_client, "bakery")
    errors = list(Draft202012Validator(schema).iter_errors(created))
    assert errors == []


def test_every_cli_command_has_help(capsys):
    from fedi_town.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in sub.choices:
        with pytest.raises(SystemExit) as exit_info:
            parser.parse_args([name, "--help"])
        assert exit_info.value.code == 0
        assert re.search(r"usage: fedi-town", capsys.readouterr().out)


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    from fedi_town.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert isinstance(sub.choices, dict)
    return sub.choices


def test_every_cli_command_is_named_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [
        name
        for name in _subcommands()
        if f"fedi-town {name}" not in readme and f"`{name}" not in readme
    ]
    assert missing == []


def test_every_cli_command_help_has_a_description_an_example_and_env_file():
    for name, command in _subcommands().items():
        text = command.format_help()
        assert command.description, name
        assert command.epilog and "example" in command.epilog and "fedi-town " in command.epilog, (
            name
        )
        assert "--env-file" in text, name
