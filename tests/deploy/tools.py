"""What the deploy/ tests share: the repository's deploy/ folder and Debian's tools.

The tools come from Debian's packages (`make deploy-tools`, which `make pytest` runs). A test
that needs a missing one fails under CI=true and is skipped with the reason elsewhere.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY = ROOT / "deploy"
#: nginx lives in /usr/sbin, which a non-root PATH may leave out.
SEARCH_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"


def tool(name: str) -> str:
    """The path of Debian's ``name``; fail under CI, else skip, when it is not installed."""
    found = shutil.which(name) or shutil.which(name, path=SEARCH_PATH)
    if found is None:
        reason = f"{name} is not installed: `make deploy-tools` installs it from Debian"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command to the end (two minutes at most) and keep what it printed."""
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
