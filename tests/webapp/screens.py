"""Screenshots of app pages, taken by the browser tests at phone and desktop widths.

Every test that calls ``shoot`` checks the page at that width (no sideways scrolling on a
390 px phone) and writes the PNG to ``$FEDI_TOWN_SCREENSHOTS`` when it is set (``make
screenshots`` sets it to docs/screenshots, the copies kept in the repository), else to the
test's temporary folder: ports and dates in the pages would otherwise change tracked files on
every run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def folder(tmp_path: Path) -> Path:
    chosen = os.environ.get("FEDI_TOWN_SCREENSHOTS")
    target = Path(chosen) if chosen else tmp_path / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    return target


async def shoot(page: Any, name: str, tmp_path: Path, *, full_page: bool = True) -> Path:
    """Save ``app-<name>-<width>.png`` after checking nothing runs off the side."""
    width = page.viewport_size["width"]
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"{name} scrolls sideways by {overflow}px at {width}px"
    path = folder(tmp_path) / f"app-{name}-{width}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path
