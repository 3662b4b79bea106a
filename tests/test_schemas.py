"""Admin API bodies checked against the JSON Schemas in schemas/; the OpenAPI they make up."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from fedi_town.errors import Unprocessable
from fedi_town.schemas import SCHEMA_DIR, openapi_document, validate


def test_every_json_schema_is_valid_and_every_ref_resolves():
    for path in SCHEMA_DIR.glob("*.schema.json"):
        Draft202012Validator.check_schema(json.loads(path.read_text()))
    text = json.dumps(openapi_document())
    assert ".schema.json" not in text


def test_a_body_that_follows_its_schema_passes():
    validate("post-create", {"content": "Fresh bread today", "visibility": "public"})


def test_a_body_that_breaks_its_schema_is_a_422_listing_every_problem_by_pointer():
    # Given a business with a missing display name, a bad website and an unknown field
    body = {"username": "bakery", "website": "ftp://x", "colour": "red"}
    # When it is checked
    with pytest.raises(Unprocessable) as refused:
        validate("business-create", body)
    # Then every problem is listed, each pointing at its field
    problems = refused.value.errors or []
    pointers = sorted(problem["pointer"] for problem in problems)
    assert pointers == ["/", "/", "/website"]
    assert refused.value.detail.startswith("3 problem(s) in the request body: ")


def test_a_problem_inside_a_list_points_at_the_item():
    body = {"username": "bakery", "display_name": "Bakery", "fields": [{"name": "Open"}]}
    with pytest.raises(Unprocessable) as refused:
        validate("business-create", body)
    assert [p["pointer"] for p in refused.value.errors or []] == ["/fields/0"]


def test_the_openapi_document_inlines_the_schemas_it_references():
    # When the served OpenAPI document is built
    doc = openapi_document()
    # Then the create-a-business body is the schema file itself, without its $id
    body = doc["paths"]["/api/v1/businesses"]["post"]["requestBody"]["content"]["application/json"]
    expected = json.loads((SCHEMA_DIR / "business-create.schema.json").read_text())
    expected.pop("$schema")
    expected.pop("$id")
    assert body["schema"] == expected
