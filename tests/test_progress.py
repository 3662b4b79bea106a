"""Progress of operator work: occasional plain lines off a terminal, a bar on one, or nothing."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from fedi_town import progress
from fedi_town.progress import Reporter, mode_for, reporter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def lines_reporter() -> tuple[Reporter, io.StringIO, Clock]:
    out, clock = io.StringIO(), Clock()
    return Reporter("backup", "lines", out, clock=clock, every_s=5.0), out, clock


def test_short_work_off_a_terminal_prints_nothing() -> None:
    # Given a reporter writing to a pipe-like stream
    report, out, clock = lines_reporter()
    # When the work takes less than a line's interval
    with report:
        for rows in range(0, 3000, 1000):
            report.update("reading posts", rows)
            clock.now += 1.0
        report.update("media files", 2, 2)
    # Then nothing was printed
    assert out.getvalue() == ""


def test_long_work_off_a_terminal_prints_a_line_every_interval_and_when_its_stage_ends() -> None:
    # Given a reporter writing to a pipe-like stream
    report, out, clock = lines_reporter()
    # When a stage runs for 12 s, then a short one follows
    with report:
        for second in range(13):
            clock.now = float(second)
            report.update("writing posts", second * 1000, 12_000)
        report.update("writing likes", 10, 10)
    # Then a line every 5 s, one when the long stage ended, and none for the short one
    assert out.getvalue().splitlines() == [
        "backup: writing posts 5,000 of 12,000 rows (41%)",
        "backup: writing posts 10,000 of 12,000 rows (83%)",
        "backup: writing posts 12,000 of 12,000 rows (100%), done",
    ]


def test_a_count_without_a_total_and_files_say_so() -> None:
    report, out, clock = lines_reporter()
    with report:
        clock.now = 6.0
        report.update("reading posts", 4000, None)
        clock.now = 12.0
        report.update("media files", 3, 9)
    assert out.getvalue().splitlines() == [
        "backup: reading posts 4,000 rows",
        "backup: reading posts 4,000 rows, done",
        "backup: media files 3 of 9 files (33%)",
        "backup: media files 3 of 9 files (33%), done",
    ]


def test_a_terminal_without_rich_gets_the_lines(monkeypatch) -> None:
    # Given a terminal, and rich not installed (it is an extra)
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(progress, "rich_installed", lambda: False)
    # Then the terminal gets the plain lines
    assert mode_for(Tty(), quiet=False) == "lines"


def test_quiet_prints_nothing_and_a_terminal_gets_a_bar() -> None:
    # Given a terminal-like stream and a pipe-like one
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    # Then quiet wins over both; a terminal gets a bar, anything else lines
    assert mode_for(Tty(), quiet=True) == mode_for(io.StringIO(), quiet=True) == "quiet"
    assert mode_for(Tty(), quiet=False) == "bar"
    assert mode_for(io.StringIO(), quiet=False) == "lines"
    out = io.StringIO()
    with reporter("restore", quiet=True, stream=out) as report:
        report.update("writing posts", 1, 1)
    assert out.getvalue() == ""


SCRIPT = """
from fedi_town.progress import reporter
with reporter("restore") as report:
    for n in range(500, 2001, 500):
        report.update("writing posts", n, 2000)
    report.update("media files", 3, 3)
print("RICH LOADED" if "rich" in __import__("sys").modules else "NO RICH")
"""


def test_on_a_real_terminal_it_draws_a_rich_bar_per_stage(tmp_path: Path) -> None:
    # Given a command on a pseudo-terminal
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=30)
    os.close(leader)
    shown = b"".join(chunks).decode("utf-8", "replace")
    # Then each stage had its bar, drawn by rich in place (carriage returns, no new lines)
    assert "writing posts" in shown and "media files" in shown
    assert "/2000" in shown and "/3" in shown
    assert "━" in shown and "RICH LOADED" in shown
    assert shown.count("\n") == 1  # only the script's own line: the bars were redrawn


def test_off_a_terminal_rich_is_never_imported() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=30
    )
    assert result.stdout.strip() == "NO RICH"
