"""Sample the server under benchmark with py-spy, and summarise what it recorded.

Every benchmark script takes ``--profile DIR``: while a figure is measured, ``py-spy record``
samples the fedi-town process (200 Hz, only threads holding the GIL, so waiting is not
counted) and writes collapsed stacks to ``DIR/<figure>.txt``. Then

    python -m bench.profile DIR/actor-1.txt [--top 40] [--only fedi_town]

prints the functions with the largest share of samples, inclusive (the function and what
it called) and exclusive. py-spy is not a dependency of fedi-town: ``pip install py-spy``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def py_spy_binary() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


@contextmanager
def sampled(pid: int, directory: Path | None, name: str) -> Iterator[None]:
    """Record ``pid`` with py-spy while the block runs (nothing if no directory or no py-spy)."""
    binary = py_spy_binary()
    if directory is None or binary is None:
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    argv = [binary, "record", "--pid", str(pid), "--rate", "200", "--format", "raw"]
    argv += ["--output", str(directory / f"{slug}.txt"), "--nonblocking", "--gil"]
    spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()


def summarise(path: Path, top: int, only: str | None) -> str:
    """The ``top`` frames by inclusive and by exclusive share of the samples."""
    inclusive: Counter[str] = Counter()
    exclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        count = int(count_text)
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        exclusive[frames[-1]] += count
    lines = [f"{path.name}: {total} samples"]
    for title, counter in (("inclusive", inclusive), ("exclusive", exclusive)):
        lines.append(f"-- {title}")
        shown = [(f, c) for f, c in counter.most_common() if only is None or only in f]
        for frame, count in shown[:top]:
            lines.append(f"{100 * count / max(total, 1):5.1f}%  {frame[:140]}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--only", help="show frames whose text contains this (e.g. fedi_town)")
    args = parser.parse_args()
    for path in args.files:
        print(summarise(path, args.top, args.only))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
