"""Received JSON that can be stored and served as it came: the one strict reader.

Every JSON document from outside (an inbox body, an admin API body, a document fetched from
another server) is read by ``parse_json_text``, which refuses what Python's ``json`` would
take but PostgreSQL, UTF-8 or a recursive reader could not: see its docstring. Pure: the
HTTP edges turn ``BadJson`` into their own error (a 400, a ``BadDocument``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from fedi_town.errors import ProtocolError


class BadJson(ProtocolError):
    """A body that is not one storable JSON object; the message says why, never the body."""


#: How deeply a received JSON document may nest. Real activities nest a handful of levels
#: (an Undo of a Like of a note, a @context list of maps); 64 leaves room and keeps every
#: recursive reader far from Python's recursion limit.
MAX_JSON_DEPTH = 64

#: ``\u`` escapes that can make a lone surrogate or NUL once decoded (a valid pair also
#: matches; only then is every string of the document looked at).
_RISKY_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
#: What PostgreSQL text cannot hold and UTF-8 cannot encode: NUL and lone surrogates.
_NOT_SCALAR = re.compile("[\x00\ud800-\udfff]")


def parse_json_text(body: bytes) -> tuple[dict[str, Any], str]:
    """Decode a JSON object and its text, or raise ``BadJson`` saying what is wrong (never
    echoing the body). What passes can be stored and served as it came in:

    - strictly UTF-8 (RFC 8259 section 8.1): no byte order mark, no UTF-16 or UTF-32, which
      ``json.loads`` on bytes would guess its way into;
    - no string (key or value) holding NUL or a lone surrogate, which PostgreSQL text and
      UTF-8 cannot store (strict decoding leaves ``\\u`` escapes as their only source, so the
      strings are only looked at when such an escape is in the bytes);
    - nested at most ``MAX_JSON_DEPTH`` levels (a body with fewer brackets than that cannot
      nest deeper, so only bracket-heavy bodies are walked);
    - no ``NaN`` or ``Infinity``, which are not JSON, nor integers of more digits than
      Python converts.
    """
    if not body:
        raise BadJson("the body is empty; a JSON object is required")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadJson(f"the body is not UTF-8 (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        raise BadJson("the body starts with a byte order mark; send UTF-8 without one")
    try:
        data = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise BadJson(f"malformed JSON: JSONDecodeError at position {exc.pos}") from None
    except RecursionError:
        raise BadJson(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # an integer too long to convert, NaN or Infinity
        raise BadJson(f"malformed JSON: {exc.__class__.__name__}") from None
    if not isinstance(data, dict):
        raise BadJson("the body must be a JSON object")
    deep = body.count(b"{") + body.count(b"[") > MAX_JSON_DEPTH
    risky = _RISKY_ESCAPE.search(body) is not None
    if deep or risky:
        _check_tree(data, depth=deep, text=risky)
    return data, text


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


#: Made once: ``json.loads`` with any keyword builds a new decoder on every call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def _check_tree(data: Any, *, depth: bool, text: bool) -> None:
    """Walk a decoded document (without recursion) for nesting and unstorable strings."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, level = stack.pop()
        if depth and level > MAX_JSON_DEPTH:
            raise BadJson(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                if text and _NOT_SCALAR.search(key):
                    raise BadJson("a JSON string holds NUL or a lone surrogate")
                stack.append((item, level + 1))
        elif isinstance(value, list):
            stack.extend((item, level + 1) for item in value)
        elif text and isinstance(value, str) and _NOT_SCALAR.search(value):
            raise BadJson("a JSON string holds NUL or a lone surrogate")
