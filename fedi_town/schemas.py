"""Run-time validation of admin API bodies against the JSON Schemas in ``schemas/``.

The same files are referenced by ``schemas/admin-api.openapi.yaml``; ``openapi_document``
inlines them to serve ``/api/v1/openapi.json``. A schema failure is a 422 listing each
problem with its JSON pointer, so a phone app can point at the field.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fedi_town.errors import Unprocessable

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


@cache
def _validator(name: str) -> Draft202012Validator:
    # Imported on first use: jsonschema (with attrs and referencing) is ~7 MB of a process
    # that may serve only federation traffic for days (idle RSS target: 80 MB).
    from jsonschema import Draft202012Validator  # deferred: RSS, first use only

    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def validate(name: str, data: Any) -> None:
    """Raise ``Unprocessable`` listing every way ``data`` breaks ``schemas/<name>.schema.json``."""
    errors = sorted(_validator(name).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        details = [
            {"pointer": "/" + "/".join(str(p) for p in e.absolute_path), "message": e.message}
            for e in errors
        ]
        raise Unprocessable(
            f"{len(details)} problem(s) in the request body: {details[0]['message']}",
            errors=details,
        )


def _inline_refs(node: Any) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.endswith(".schema.json"):
            schema = json.loads((SCHEMA_DIR / ref).read_text())
            schema.pop("$schema", None)
            schema.pop("$id", None)
            return _inline_refs(schema)
        return {k: _inline_refs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_refs(v) for v in node]
    return node


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    """The admin API's OpenAPI description with the referenced JSON Schemas inlined."""
    import yaml  # deferred: first use only, like jsonschema above

    raw = yaml.safe_load((SCHEMA_DIR / "admin-api.openapi.yaml").read_text())
    result: dict[str, Any] = _inline_refs(raw)
    return result
