"""Run every benchmark, then print one table of figures, ceilings and targets (``make bench``).

    .venv/bin/python bench/run_all.py [--quick] [--only read_path,inbox] [--out results.json]

Each script runs in its own process (``python -m bench.NAME --json ...``) with a time limit;
a script that fails is reported and the others still run. The exit code is 0 whether or
not targets are met (timings never fail a build); it is 1 only if a script crashed.
The whole run takes about ten minutes on two cores (``--quick``: about three); the
soak (``bench.soak``) alone takes four of them (three of load, then its drain).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: name -> time limit in seconds (full run)
SCRIPTS = {
    "facts": 120,
    "read_path": 360,  # three interleaved rounds per row
    "inbox": 420,
    "fanout": 900,  # with the 100,000-inbox growth row and three turns at 10,000
    "soak": 420,
    "memory": 300,  # fedi-town serve as installed: idle and peak RSS (about a minute)
}


def _run(name: str, quick: bool, out: Path, limit: float) -> tuple[bool, float]:
    argv = [sys.executable, "-m", f"bench.{name}", "--json", str(out)]
    if quick:
        argv.append("--quick")
    print(f"\n=== {name} ===", flush=True)
    started = time.perf_counter()
    try:
        done = subprocess.run(argv, cwd=ROOT, timeout=limit, check=False)
        ok = done.returncode == 0 and out.exists()
    except subprocess.TimeoutExpired:
        print(f"{name}: stopped after {limit:.0f} s", flush=True)
        ok = False
    return ok, time.perf_counter() - started


def main() -> int:
    from bench import report
    from bench.machine import describe, load_average

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, short runs")
    parser.add_argument("--only", default="", help="comma-separated scripts to run")
    parser.add_argument("--out", type=Path, help="write every figure here as JSON")
    args = parser.parse_args()
    names = [n for n in (args.only.split(",") if args.only else SCRIPTS) if n]
    unknown = [n for n in names if n not in SCRIPTS]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(SCRIPTS)}")
    machine = describe()
    print("machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()))
    print(f"1-minute load average at start: {load_average():.2f}")
    figures: list[report.Figure] = []
    notes: list[str] = []
    failed: list[str] = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fedi-bench-") as tmp:
        for name in names:
            out = Path(tmp) / f"{name}.json"
            ok, seconds = _run(name, args.quick, out, SCRIPTS[name])
            if not ok:
                failed.append(name)
                continue
            found, said = report.load(out)
            figures += found
            notes += [f"{name}: {n}" for n in said]
            notes.append(f"{name}: ran in {seconds:.0f} s")
    total = time.perf_counter() - began
    print("\n=== all figures ===")
    print(report.table(figures))
    with_target = [f for f in figures if f.met is not None]
    met = [f for f in with_target if f.met]
    print(f"\ntargets met: {len(met)} of {len(with_target)}")
    for f in with_target:
        if not f.met:
            print(f"  MISSED [{f.section}] {f.name}: {f.target}")
    for note in notes:
        print(f"note: {note}")
    print(f"1-minute load average at end: {load_average():.2f}; total {total:.0f} s")
    if failed:
        print(f"FAILED: {', '.join(failed)} (see their output above)")
    if args.out:
        data = {"machine": machine, "seconds": total, "failed": failed}
        report.save(args.out, figures, notes)
        args.out.write_text(json.dumps({**json.loads(args.out.read_text()), **data}, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
