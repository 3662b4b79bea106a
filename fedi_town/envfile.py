"""``--env-file PATH``: read the service's systemd-style environment file for a CLI command.

The file is the one the systemd unit names in ``EnvironmentFile=``, so an operator's
``fedi-town doctor --env-file /etc/fedi-town/fedi-town.env`` sees the settings the service sees.
The syntax is systemd's common subset:

    # a comment                  whole-line comments (# or ;) and blank lines are skipped
    FEDI_TOWN_BASE_URL=https://town.example
    export FEDI_TOWN_PORT=8000   a leading ``export`` is allowed (a shell can source the file)
    FEDI_TOWN_INSTANCE_NAME="Our town"   one pair of matching ' or " quotes is removed;
                                 inside "...", \\" and \\\\ are unescaped

Precedence: the real environment wins. A ``FEDI_TOWN_*`` value from the file is used only
when the variable is not set in the environment, so ``FEDI_TOWN_LOG_LEVEL=DEBUG fedi-town
doctor --env-file ...`` overrides one setting for one run. Other names in the file are
accepted and ignored (the commands read only ``FEDI_TOWN_*``). A missing or unreadable file,
or a line that is not ``NAME=value``, is a ``ConfigError`` naming the file and the line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from fedi_town.errors import ConfigError
from fedi_town.settings import PREFIX

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse(text: str, source: str) -> dict[str, str]:
    """The ``NAME=value`` pairs of an environment file's ``text`` (later lines win);
    ``source`` names the file in errors."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not _NAME.fullmatch(name):
            # the line itself is not shown: it may hold a secret
            raise ConfigError(f"{source}:{number}: expected NAME=value")
        values[name] = _unquote(value.strip(), f"{source}:{number}", name)
    return values


def read(path: Path) -> dict[str, str]:
    """The pairs of the environment file at ``path``; ``ConfigError`` when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such environment file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"{path}: cannot read the environment file: {reason}") from None
    return parse(text, str(path))


def fill_in(environ: MutableMapping[str, str], values: Mapping[str, str]) -> list[str]:
    """Put each ``FEDI_TOWN_*`` value of ``values`` into ``environ`` unless it is set there
    already; return the names filled in."""
    filled = []
    for name, value in values.items():
        if name.startswith(PREFIX) and name not in environ:
            environ[name] = value
            filled.append(name)
    return filled


def _unquote(value: str, where: str, name: str) -> str:
    if value[:1] in {'"', "'"}:
        quote = value[0]
        if len(value) < 2 or value[-1] != quote:
            raise ConfigError(f"{where}: the value of {name} has no closing {quote}")
        inner = value[1:-1]
        if quote == '"':
            inner = re.sub(r'\\(["\\])', r"\1", inner)
        return inner
    return value
