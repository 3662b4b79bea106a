"""fedi-town: each local business an ActivityPub actor of its own."""

import sys

__version__ = "0.1.0"

# httpx imports its command line (``httpx._main``: click, rich, pygments) whenever rich is
# installed, as with the ``progress`` extra: 3.3 MB in every process, never used here. None
# in ``sys.modules`` makes that import fail, and httpx then defines a ``main`` that only says
# its command line is not there (the ``httpx`` command itself is not affected).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
