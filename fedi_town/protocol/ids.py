"""Object ids as they come in from paths, query strings and bodies: one parser for all.

Ids are 63-bit snowflakes (``store.db.new_id``), stored as signed 64-bit integers, so a valid
id is 1..``MAX_ID``. Anything else is refused here, before it reaches SQL, where a number
past 2^63 - 1 is an overflow (PostgreSQL bigint, SQLite's C integer) rather than "no row".

What a bad id means depends on where it was:

    in a path     404: there is no such object (``path_id``)
    in a query    400 naming the parameter (``query_id``, ``query_limit``)
    in a body     422 with the field's JSON pointer (``body_id``)

Only ASCII digits count (``str.isdigit`` also takes "²" and Arabic-Indic digits, which
``int`` may accept or refuse); no sign, no spaces, no underscores, at most 19 of them.
"""

from __future__ import annotations

from fedi_town.errors import BadRequest, NotFound, Unprocessable

#: The largest id: a signed 64-bit integer's maximum.
MAX_ID = 2**63 - 1
#: Digits of ``MAX_ID``: a longer string is out of range without converting it.
MAX_ID_DIGITS = len(str(MAX_ID))


def parse_id(raw: object) -> int | None:
    """The id ``raw`` names (a string of ASCII digits, or an int), or None when it is not
    one in 1..``MAX_ID``. Never raises."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str):
        if not raw or len(raw) > MAX_ID_DIGITS or not raw.isascii() or not raw.isdigit():
            return None
        value = int(raw)
    else:
        return None
    return value if 1 <= value <= MAX_ID else None


def path_id(raw: object, what: str = "object") -> int:
    """The id in a path segment, or 404: a malformed id names nothing that exists."""
    value = parse_id(raw)
    if value is None:
        raise NotFound(f"no such {what}")
    return value


def query_id(raw: str | None, name: str) -> int | None:
    """The id in query parameter ``name`` (None when absent or empty), or 400 naming it."""
    if raw is None or raw == "":
        return None
    value = parse_id(raw)
    if value is None:
        raise BadRequest(
            f"{name} must be an id (a whole number from 1 to {MAX_ID})",
            errors=[{"parameter": name, "message": "not an id"}],
        )
    return value


def query_limit(raw: str | None, name: str = "limit", *, default: int, maximum: int) -> int:
    """A page size from the query (``default`` when absent), or 400 unless 1..``maximum``."""
    if raw is None or raw == "":
        return default
    value = parse_id(raw)
    if value is None or value > maximum:
        raise BadRequest(
            f"{name} must be a whole number from 1 to {maximum}",
            errors=[{"parameter": name, "message": f"not a whole number from 1 to {maximum}"}],
        )
    return value


def body_id(raw: object, pointer: str) -> int:
    """The id in a body field at JSON ``pointer`` (e.g. ``/media_ids/0``), or 422 naming it."""
    value = parse_id(raw) if isinstance(raw, str) else None
    if value is None:
        message = f"not an id (a string of digits, 1 to {MAX_ID})"
        raise Unprocessable(
            f"{pointer[1:] or 'body'} is {message}",
            errors=[{"pointer": pointer, "message": message}],
        )
    return value
