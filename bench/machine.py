"""What the machine is, and what a process costs it: CPU seconds and resident memory.

Reads ``/proc`` only (Linux). ``cpu_seconds(pid)`` counts a process and its descendants, so
a uvicorn supervisor with two workers is counted whole. ``RssSampler`` polls ``VmRSS`` of
one process in a thread and keeps the highest value it saw; ``VmHWM`` (the kernel's own
high-water mark) is read at the end as a cross-check.
"""

from __future__ import annotations

import os
import platform
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
_MB = 1024 * 1024


def describe() -> dict[str, str]:
    """nproc, CPU model, memory, kernel and Python: the header of every report."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    total = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                total = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "memory": total,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def load_average() -> float:
    """The 1-minute load average: tells whether something else was running."""
    return os.getloadavg()[0]


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process (this kernel has no /proc/PID/task/*/children)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    return parents


def process_tree(pid: int) -> list[int]:
    """``pid`` and every descendant still alive."""
    by_parent: dict[int, list[int]] = {}
    for child, parent in _parents().items():
        by_parent.setdefault(parent, []).append(child)
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += by_parent.get(current, [])
    return tree


def _cpu_of(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[11], fields[12]: utime, stime (the 14th and 15th of the full line)
    return (int(fields[11]) + int(fields[12])) / _TICKS


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid`` and its descendants."""
    return sum(_cpu_of(p) for p in process_tree(pid))


def machine_busy_seconds() -> float:
    """CPU time every core of this machine has spent busy so far (all but idle and I/O
    wait, from ``/proc/stat``): over a window, the cores the whole machine used."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _TICKS


def postgres_cpu_seconds() -> float:
    """CPU time of this machine's PostgreSQL server processes (every ``postgres``)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += _cpu_of(int(entry.name))
            except OSError:
                continue
    return total


@dataclass
class SharedCpu:
    """Who else used the machine's cores during a ``with`` block: the receivers' process
    tree, the PostgreSQL server, and the whole machine (cores, averaged over the block)."""

    receivers_pid: int
    receivers_cores: float = 0.0
    postgres_cores: float = 0.0
    machine_cores: float = 0.0
    _start: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def __enter__(self) -> SharedCpu:
        self._start = (
            time.perf_counter(),
            cpu_seconds(self.receivers_pid),
            postgres_cpu_seconds(),
            machine_busy_seconds(),
        )
        return self

    def __exit__(self, *exc: object) -> None:
        seconds = max(time.perf_counter() - self._start[0], 1e-9)
        self.receivers_cores = (cpu_seconds(self.receivers_pid) - self._start[1]) / seconds
        self.postgres_cores = (postgres_cpu_seconds() - self._start[2]) / seconds
        self.machine_cores = (machine_busy_seconds() - self._start[3]) / seconds

    def describe(self) -> str:
        cores = os.cpu_count() or 1
        return (
            f"receivers {self.receivers_cores:.2f} cores, PostgreSQL {self.postgres_cores:.2f}, "
            f"machine {self.machine_cores:.2f} of {cores} cores busy"
        )


def self_cpu_seconds() -> float:
    """CPU time of this process (all threads)."""
    times = os.times()
    return times.user + times.system


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of one process in MB; zeros if it is gone."""
    rss = hwm = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024 / _MB
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) * 1024 / _MB
    except OSError:
        pass
    return rss, hwm


@dataclass
class RssSampler:
    """Poll one process's RSS every ``interval`` seconds while the ``with`` block runs."""

    pid: int
    interval: float = 0.05
    peak_mb: float = 0.0
    samples: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()

    def _sample(self) -> None:
        rss, _ = memory_mb(self.pid)
        if rss:
            self.samples.append(rss)
            self.peak_mb = max(self.peak_mb, rss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()


@dataclass
class CpuMeter:
    """CPU seconds a server (process tree) and this process spent during a ``with`` block."""

    pid: int
    server_s: float = 0.0
    self_s: float = 0.0
    _start: tuple[float, float] = (0.0, 0.0)

    def __enter__(self) -> CpuMeter:
        self._start = (cpu_seconds(self.pid), self_cpu_seconds())
        return self

    def __exit__(self, *exc: object) -> None:
        self.server_s = cpu_seconds(self.pid) - self._start[0]
        self.self_s = self_cpu_seconds() - self._start[1]
