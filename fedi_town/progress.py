"""Progress of long operator work (backup, restore, copy-database...): a bar, a few lines,
or nothing.

    with reporter("backup", quiet=args.quiet) as report:
        run_the_work(progress=report.update)     # report.update(stage, done, total)

``update(stage, done, total)`` says how far a stage is (a table's rows, the media files):
``done`` so far, of ``total`` when known (None: a count without an end, as rows read from
a live database). A new stage name ends the one before. Any thread may call it (media
files are copied in a worker thread): one lock guards the state.

Where it goes, always to stderr (stdout keeps the command's result):

- **A terminal**, with ``rich`` installed (the ``progress`` extra): a progress bar for the
  stage under way, redrawn in place and gone when the work ends (the command's summary
  follows). rich is imported only then (``# deferred:``: 30-45 ms and 5 MB). It is an
  extra, not a dependency: where rich, pygments and click are all installed, ``import
  httpx`` loads httpx's own command line with them, and every fedi-town process (``serve``
  included) holds 3.3 MB more (measured on an install from the wheel: idle ``serve`` at
  86.6 MB with rich, 83.3 MB without). Without rich, a terminal gets the lines below.
- **Not a terminal** (systemd's journal, cron's mail, a pipe): plain lines, and only for
  long work: one every ``LINE_EVERY_S`` seconds saying where the work is, and a last one
  for a stage that had such a line when it ends. Work shorter than that prints nothing.
- **quiet**: nothing.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal, TextIO

#: Seconds between two plain lines (not a terminal).
LINE_EVERY_S = 5.0

Mode = Literal["bar", "lines", "quiet"]
#: ``update``'s signature, what long operations take as their ``progress`` argument
Update = Callable[[str, int, "int | None"], None]


def quiet_update(stage: str, done: int, total: int | None = None) -> None:
    """An ``Update`` that says nothing (the default of the operations that take one)."""


def rich_installed() -> bool:
    """Whether rich can be imported (found, not imported)."""
    return importlib.util.find_spec("rich") is not None


def mode_for(stream: TextIO, quiet: bool) -> Mode:
    """A bar on a terminal (with rich), lines elsewhere, nothing when ``quiet``."""
    if quiet:
        return "quiet"
    isatty = getattr(stream, "isatty", None)
    terminal = isatty is not None and isatty()
    return "bar" if terminal and rich_installed() else "lines"


class Reporter:
    """The progress of one command's work (see the module docstring); a context manager."""

    def __init__(
        self,
        title: str,
        mode: Mode,
        stream: TextIO,
        *,
        clock: Callable[[], float] = time.monotonic,
        every_s: float = LINE_EVERY_S,
    ) -> None:
        self.title = title
        self.mode = mode
        self.stream = stream
        self.clock = clock
        self.every_s = every_s
        self._lock = threading.Lock()
        self._stage: str | None = None
        self._done = 0
        self._total: int | None = None
        self._unit = ""
        self._said = False  # a line was printed about the current stage
        self._last_line = clock()
        self._bar: Any = None  # rich.progress.Progress while a bar is drawn
        self._task: Any = None

    def __enter__(self) -> Reporter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close(finished=kind is None)

    def update(self, stage: str, done: int, total: int | None = None) -> None:
        """``stage`` is at ``done`` of ``total`` (None: unknown)."""
        if self.mode == "quiet":
            return
        with self._lock:
            if stage != self._stage:
                self._end_stage()
                self._stage, self._said = stage, False
                self._unit = "files" if "file" in stage else "rows"
                if self.mode == "bar":
                    self._bar_stage(stage, total)
            self._done, self._total = done, total
            if self.mode == "bar":
                self._bar.update(self._task, completed=done, total=total)
                return
            now = self.clock()
            if now - self._last_line >= self.every_s:
                self._line()
                self._last_line = now

    def close(self, finished: bool = True) -> None:
        """End the last stage (its last line when ``finished``) and take the bar away."""
        with self._lock:
            if finished:
                self._end_stage()
            if self._bar is not None:
                self._bar.stop()
                self._bar = None

    def _end_stage(self) -> None:
        if self._stage is None:
            return
        if self.mode == "lines" and self._said:
            self._line(ended=True)
        elif self.mode == "bar" and self._task is not None:
            self._bar.remove_task(self._task)  # one bar at a time: the stage under way
            self._task = None
        self._stage = None

    def _line(self, ended: bool = False) -> None:
        if self._total is not None:
            share = f" ({100 * self._done // self._total}%)" if self._total else ""
            count = f"{self._done:,} of {self._total:,} {self._unit}{share}"
        else:
            count = f"{self._done:,} {self._unit}"
        tail = ", done" if ended else ""
        self.stream.write(f"{self.title}: {self._stage} {count}{tail}\n")
        self.stream.flush()
        self._said = True

    def _bar_stage(self, stage: str, total: int | None) -> None:
        if self._bar is None:
            from rich import console  # deferred: only on a terminal (30-45 ms, 5 MB)
            from rich import progress as rich  # deferred: with the line above

            self._bar = rich.Progress(
                rich.TextColumn("{task.description:<24}"),
                rich.BarColumn(),
                rich.MofNCompleteColumn(),
                rich.TextColumn("{task.fields[unit]}"),
                rich.TimeElapsedColumn(),
                console=console.Console(file=self.stream),
                transient=True,
            )
            self._bar.start()
        self._task = self._bar.add_task(stage, total=total, unit=self._unit)


def reporter(title: str, *, quiet: bool = False, stream: TextIO | None = None) -> Reporter:
    """A ``Reporter`` for ``title`` on ``stream`` (stderr): bar, lines or nothing."""
    out = stream if stream is not None else sys.stderr
    return Reporter(title, mode_for(out, quiet), out, every_s=LINE_EVERY_S)
