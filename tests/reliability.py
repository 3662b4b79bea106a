"""What the hostile-input and fault suites tried, for docs/reliability.md's figures table.

A test calls ``record(suite, case_class, outcome)`` once per input or fault it tried.
When ``RELIABILITY_RECORDS_OUT`` names a file (``bench/reliability.py`` sets it), each
call appends one JSON line there; otherwise nothing is written. Outcomes are short words:
the status answered (``"400"``, ``"202"``), ``"dropped"``, ``"survived"``, or for faults
figures such as ``lost=0 duplicates=3``. The variable is outside the ``FEDI_TOWN_`` prefix on
purpose: ``Settings.from_env`` refuses unknown ``FEDI_TOWN_*`` variables, and servers the
suites start inherit the environment.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

_lock = threading.Lock()


def record(suite: str, case_class: str, outcome: str, **figures: Any) -> None:
    """Note one tried input or fault: ``suite`` (inbox, signatures, admin-api, faults, …),
    the class of case (``lone surrogate in id``), what happened, and any figures."""
    path = os.environ.get("RELIABILITY_RECORDS_OUT")
    if not path:
        return
    line = json.dumps(
        {"suite": suite, "class": case_class, "outcome": outcome, **figures}, sort_keys=True
    )
    with _lock, open(path, "a", encoding="utf-8") as out:
        out.write(line + "\n")
