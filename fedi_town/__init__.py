"""fedi-town: each local business an ActivityPub actor of its own."""

import sys

__version__ = "0.1.0"

# httpx imports its command line (``httpx._main``: click, rich, pygments) whenever rich is
# installed, as with the ``progress`` extra: 3.3 MB in every process, never used here. None
# in ``sys.modules`` makes that import fail, and httpx then defines a ``main`` that only says
# its command line is not there (the ``httpx`` command itself is not affected).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
# ``import uvicorn`` imports its command line (``uvicorn.main``), whose ``--reload`` watcher
# loads watchfiles and its Rust extension when it is installed (``uvicorn[standard]``):
# 1.0 MB in every process, never used here (serve has no --reload). With None in its place,
# uvicorn falls back to its stat-based reloader, which imports nothing more. Set before
# uvicorn is imported only: ``uvicorn --reload`` started by hand has loaded it already.
sys.modules.setdefault("watchfiles", None)  # type: ignore[arg-type]
