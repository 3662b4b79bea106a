"""docs/reliability.md's figures: what the hostile and fault suites tried, and the soak.

    .venv/bin/python -m bench.reliability [--soak | --soak-quick | --soak-json soak.json]
                                          [--records records.jsonl] [--doc docs/reliability.md]

Runs ``.venv/bin/pytest -q -p no:cacheprovider tests/hostile tests/faults`` (those of the two
that exist, plus every other test file that imports ``tests.reliability``) with
``RELIABILITY_RECORDS_OUT`` naming a temporary file, where every tried case leaves one
JSON line (``tests/reliability.py``: suite, class, outcome and figures such
as ``lost`` and ``duplicates``). With ``--records`` it reads such a file instead of running
the tests. With ``--soak`` (3 minutes) or ``--soak-quick`` (30 s) it runs ``bench.soak``;
with ``--soak-json`` it reads a soak's ``--out``. Then it rewrites the part of ``--doc``
between ``<!-- figures:start -->`` and ``<!-- figures:end -->`` with Markdown tables: per
suite and class the cases tried and their outcomes (``400 ×12, 202 ×3``), the faults with
held / failed, lost and duplicates, the soak's figures, and when, where (machine and
commit) it was measured. A suite that is missing or recorded nothing is said so in the
table. Exit code: 0 when the tables were written, whatever they say.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.machine import describe
from bench.servers import ROOT

START = "<!-- figures:start -->"
END = "<!-- figures:end -->"
SUITE_DIRS = ("tests/hostile", "tests/faults")
#: outcomes that mean a fault was survived, or not; any other outcome (a figure such as
#: ``rows=1000``) is shown as it is and counted as neither
SURVIVED = frozenset({"survived", "ok", "recovered", "passed"})
FAILED = frozenset({"failed", "fail", "lost", "crashed", "broken"})
PYTEST_LIMIT_S = 1800
#: how a test file brings in the recorder (at the top or inside a test)
_RECORDS = re.compile(
    r"^\s*(from tests(\.reliability import| import reliability)|import tests\.reliability)",
    re.MULTILINE,
)


# -- records ----------------------------------------------------------------------------------


def read_records(lines: Iterable[str]) -> tuple[list[dict[str, Any]], int]:
    """The records in JSON lines, and how many lines were not records (skipped)."""
    records, bad = [], 0
    for line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if isinstance(record, dict) and {"suite", "class", "outcome"} <= record.keys():
            records.append(record)
        else:
            bad += 1
    return records, bad


def _number(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def is_fault(record: dict[str, Any]) -> bool:
    """Fault records: the ``faults`` suite, or any record carrying lost / duplicates."""
    return record["suite"] == "faults" or "lost" in record or "duplicates" in record


@dataclass
class Tried:
    """Every case of one (suite, class): how many, what happened, what was lost or repeated."""

    suite: str
    case_class: str
    outcomes: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    duplicates: int = 0
    max_duplicates: int = 0
    fault: bool = False

    @property
    def tried(self) -> int:
        return sum(self.outcomes.values())

    @property
    def survived(self) -> int:
        return sum(n for o, n in self.outcomes.items() if o.lower() in SURVIVED)

    def held(self, run: SuiteRun) -> int:
        """Cases whose test asserted the intended outcome and passed: every case but the
        failed ones when no test of the run failed, else only those that say "survived"."""
        return self.tried - self.failed if not run.failed else self.survived

    @property
    def failed(self) -> int:
        """Cases that say they failed, and any answered with a 5xx other than 503."""
        return sum(n for o, n in self.outcomes.items() if o.lower() in FAILED) + self.server_errors

    @property
    def server_errors(self) -> int:
        """Cases answered with a 5xx other than 503: never right. A 503 (with Retry-After)
        is the intended "later" of a full disk, a backlog or the body budget."""
        return sum(n for o, n in self.outcomes.items() if re.fullmatch(r"5\d\d", o) and o != "503")


def aggregate(records: Iterable[dict[str, Any]]) -> list[Tried]:
    """One ``Tried`` per (suite, class), sorted by suite then class."""
    found: dict[tuple[str, str], Tried] = {}
    for record in records:
        key = (str(record["suite"]), str(record["class"]))
        tried = found.setdefault(key, Tried(*key))
        tried.outcomes[str(record["outcome"])] += 1
        tried.fault = tried.fault or is_fault(record)
        lost, duplicates = _number(record.get("lost")), _number(record.get("duplicates"))
        tried.lost += lost or 0
        tried.duplicates += duplicates or 0
        tried.max_duplicates = max(tried.max_duplicates, duplicates or 0)
    return [found[key] for key in sorted(found)]


def outcome_text(outcomes: Counter[str]) -> str:
    """``400 ×12, 202 ×3``: most frequent first, then by name."""
    ordered = sorted(outcomes.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{outcome} ×{n}" for outcome, n in ordered)


# -- the Markdown -----------------------------------------------------------------------------


@dataclass
class SuiteRun:
    """What the pytest run of the suites said."""

    present: list[str]
    missing: list[str]
    summary: str = ""
    exit_code: int | None = None
    seconds: float = 0.0
    #: node ids of the tests that failed or errored (pytest's short summary)
    failed: list[str] = field(default_factory=list)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], align: str, rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align.split()) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def hostile_table(tried: list[Tried], run: SuiteRun) -> list[str]:
    rows = [t for t in tried if not t.fault]
    out = ["### Hostile inputs", ""]
    if "tests/hostile" in run.missing and not rows:
        return [*out, "tests/hostile does not exist yet: no hostile input was tried.", ""]
    if not rows:
        return [*out, "No hostile-input case was recorded.", ""]
    out += _table(
        ("suite", "class of input", "tried", "outcomes", "5xx but 503"),
        "--- --- --: --- --:",
        [(t.suite, t.case_class, t.tried, outcome_text(t.outcomes), t.server_errors) for t in rows],
    )
    total = sum(t.tried for t in rows)
    errors = sum(t.server_errors for t in rows)
    out += [
        "",
        f"{total:,} hostile inputs in {len(rows)} classes; answered with a 5xx other than 503:"
        f" {errors}.",
    ]
    return [*out, ""]


def faults_table(tried: list[Tried], run: SuiteRun) -> list[str]:
    rows = [t for t in tried if t.fault]
    out = ["### Faults injected", ""]
    if "tests/faults" in run.missing and not rows:
        return [*out, "tests/faults does not exist yet: no fault was injected.", ""]
    if not rows:
        return [*out, "No fault case was recorded.", ""]
    out += _table(
        ("suite", "fault", "tried", "held", "failed", "lost", "duplicates (max)", "outcomes"),
        "--- --- --: --: --: --: --: ---",
        [
            (
                t.suite, t.case_class, t.tried, t.held(run), t.failed, t.lost,
                f"{t.duplicates} ({t.max_duplicates})", outcome_text(t.outcomes),
            )
            for t in rows
        ],
    )  # fmt: skip
    lost = sum(t.lost for t in rows)
    held = sum(t.held(run) for t in rows)
    failed = sum(t.failed for t in rows)
    total = sum(t.tried for t in rows)
    out += [
        "",
        f"{total} faults injected: {held} held (their test asserted the intended outcome, "
        f"e.g. nothing lost, a 503, a clean exit, and passed), {failed} failed; activities "
        f"lost: {lost}.",
    ]
    return [*out, ""]


def soak_table(soak: dict[str, Any] | None, why_not: str) -> list[str]:
    out = ["### Load held (bench/soak.py)", ""]
    if soak is None:
        return [*out, f"No soak in this run ({why_not}).", ""]
    memory, acts, dels = soak["memory"], soak["activities"], soak["deliveries"]
    rates = soak.get("rates", {})
    statuses: Counter[str] = Counter()
    for by_status in soak["requests"].values():
        statuses.update(by_status)
    verdicts = soak.get("verdicts", {})
    kept = sum(1 for v in verdicts.values() if v)
    rows = [
        ("started", f"{soak.get('started', '?')} (load average {soak.get('load_average_before')}"
         f" before, {soak.get('load_average_after')} after)"),
        ("database", soak.get("database", "SQLite")),
        ("servers", f"{soak['servers']} (each {rates.get('activities_per_server_s', '?')} "
         f"activities/s and {rates.get('gets_per_server_s', '?')} signed GETs/s; one sent "
         f"{soak.get('greedy_sent', 0):,} Likes as fast as it could; the owner posts every "
         f"{rates.get('owner_post_every_s', '?')} s)"),
        ("duration", f"{soak['load_seconds']:.0f} s of load, then {soak['drain_seconds']:.0f} s "
         "of drain" + (" (--quick)" if soak.get("quick") else "")),
        ("requests", f"{soak['requests_total']:,}: {outcome_text(statuses)}"),
        ("5xx answers", soak["status_5xx"]),
        ("429 answers (intended, retried)", soak["status_429"]),
        ("transport errors", soak["transport_errors"]),
        ("server RSS peak / final", f"{memory['peak_mb']:.0f} MB / {memory['final_mb']:.0f} MB "
         f"(MemoryMax {memory['limit_mb']:.0f} MB)"),
        ("memory flat", f"{'yes' if memory.get('flat') else 'NO'}: last third's max "
         f"{memory.get('last_third_max_mb')} MB, first third's {memory.get('first_third_max_mb')}"
         f" MB, margin {memory.get('margin_mb')} MB"),
        ("activities sent / accepted / stored / handled",
         f"{acts.get('sent', acts['accepted']):,} / {acts['accepted']:,} / {acts['stored']:,} / "
         f"{acts['handled']:,} (failed {acts['failed']}, "
         f"pending after drain {acts['pending_after_drain']})"),
        ("deliveries expected / received", f"{dels['expected']:,} / {dels['received']:,} "
         f"({dels['posts']} posts × {soak['servers']} servers; lost {dels['lost']}, "
         f"duplicates {dels['duplicates']}, pending after drain {dels['pending_after_drain']})"),
        ("Follows accepted", f"{dels['accepts_received']} / {dels['accepts_expected']}"),
        ("post to every server", _fanout(soak.get("fanout"))),
        ("delivery attempts (server log)",
         outcome_text(Counter(soak["server_log"].get("delivery_attempts", {}))) or "-"),
        ("server log", f"{soak['server_log']['error_lines']} ERROR lines or tracebacks"),
        ("promises kept", f"{kept} of {len(verdicts)}"
         + "".join(f"; BROKEN: {name}" for name, v in verdicts.items() if not v)),
    ]  # fmt: skip
    out += _table(("figure", "value"), "--- ---", rows)
    return [*out, ""]


def _fanout(fan: dict[str, Any] | None) -> str:
    if not fan or not fan.get("posts"):
        return "-"
    return (
        f"median {fan['median_s']} s, slowest {fan['max_s']} s; {fan['slow']} of "
        f"{fan['posts']} posts over {fan.get('slow_over_s', 10):.0f} s"
    )


def summary_table(tried: list[Tried], soak: dict[str, Any] | None, run: SuiteRun) -> list[str]:
    hostile = [t for t in tried if not t.fault]
    faults = [t for t in tried if t.fault]
    lost = sum(t.lost for t in faults)
    duplicates = max((t.max_duplicates for t in faults), default=0)
    rows: list[tuple[str, object]] = [
        ("hostile inputs tried (classes)",
         f"{sum(t.tried for t in hostile):,} ({len(hostile)})"),
        ("answered with a 5xx other than 503", sum(t.server_errors for t in hostile)),
        ("faults injected / held / failed",
         f"{sum(t.tried for t in faults)} / {sum(t.held(run) for t in faults)} / "
         f"{sum(t.failed for t in faults)}"),
        ("activities lost (faults)", lost),
        ("duplicates per fault, at most", duplicates),
    ]  # fmt: skip
    if soak is not None:
        dels = soak["deliveries"]
        rows += [
            ("load held", f"{soak['servers']} servers for {soak['load_seconds']:.0f} s, "
             f"{soak['requests_total']:,} requests, 5xx {soak['status_5xx']}"),
            ("activities lost (soak)", soak["activities"]["unaccounted"] + dels["lost"]),
            ("duplicate deliveries (soak)", dels["duplicates"]),
            ("peak memory (soak)", f"{soak['memory']['peak_mb']:.0f} MB"),
        ]  # fmt: skip
    return ["### Summary", "", *_table(("figure", "value"), "--- --:", rows), ""]


def _failed_lines(failed: list[str], limit: int = 30) -> list[str]:
    """Which tests failed: their cases' records may be missing from the tables below."""
    if not failed:
        return []
    lines = ["Tests that failed in this run (their cases may be missing below):", ""]
    lines += [f"- `{node}`" for node in failed[:limit]]
    if len(failed) > limit:
        lines.append(f"- and {len(failed) - limit} more")
    return [*lines, ""]


def render(
    tried: list[Tried],
    run: SuiteRun,
    soak: dict[str, Any] | None,
    *,
    when: datetime,
    machine: dict[str, str],
    commit: str,
    command: str,
    why_no_soak: str = "not asked for",
    skipped_lines: int = 0,
) -> str:
    """The figures section (without its markers)."""
    where = ", ".join(f"{k} {v}" for k, v in machine.items())
    ran = ", ".join(run.present) or "none"
    lines = [
        f"Measured {when.strftime('%Y-%m-%d %H:%M')} UTC at commit {commit} on {where}, by"
        f" `{command}`.",
        "",
        f"Suites run: {ran}" + (f"; missing: {', '.join(run.missing)}" if run.missing else "")
        + (f"; pytest said: {run.summary}" if run.summary else "")
        + (f" (exit code {run.exit_code})" if run.exit_code not in (None, 0) else "")
        + (f"; {skipped_lines} unreadable record lines skipped" if skipped_lines else "") + ".",
        "",
        *_failed_lines(run.failed),
        *summary_table(tried, soak, run),
        *hostile_table(tried, run),
        *faults_table(tried, run),
        *soak_table(soak, why_no_soak),
    ]  # fmt: skip
    return "\n".join(lines).rstrip() + "\n"


def replace_figures(document: str, figures: str) -> str:
    """``document`` with the text between the markers replaced by ``figures``."""
    start, end = document.find(START), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the document needs {START} then {END}")
    return document[: start + len(START)] + "\n\n" + figures.strip() + "\n\n" + document[end:]


# -- running ----------------------------------------------------------------------------------


def recording_tests(root: Path = ROOT) -> list[str]:
    """Test files outside ``SUITE_DIRS`` that record tried cases too (they import
    ``tests.reliability``), so that every recorded case reaches the tables."""
    found = []
    for path in sorted((root / "tests").rglob("test_*.py")):
        relative = path.relative_to(root).as_posix()
        if any(relative.startswith(d + "/") for d in SUITE_DIRS):
            continue
        if _RECORDS.search(path.read_text(errors="replace")):
            found.append(relative)
    return found


def run_suites(out: Path) -> SuiteRun:
    """pytest over the suite directories that exist and the other recording test files,
    recording into ``out``."""
    present = [d for d in SUITE_DIRS if (ROOT / d).is_dir()]
    run = SuiteRun(present + recording_tests(), [d for d in SUITE_DIRS if d not in present])
    if not run.present:
        return run
    env = {**os.environ, "RELIABILITY_RECORDS_OUT": str(out)}
    argv = [str(ROOT / ".venv" / "bin" / "pytest"), "-q", "-p", "no:cacheprovider", *run.present]
    print("running: " + " ".join(argv[0:1] + argv[1:]), flush=True)
    started = time.monotonic()
    try:
        done = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=PYTEST_LIMIT_S,
            check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        run.summary = f"stopped after {PYTEST_LIMIT_S} s"
        run.exit_code = -1
        return run
    run.seconds = time.monotonic() - started
    run.exit_code = done.returncode
    tail = [line for line in done.stdout.strip().splitlines() if line.strip()]
    run.summary = tail[-1].strip("= ") if tail else ""
    run.failed = failed_tests(done.stdout)
    print(done.stdout[-3000:], flush=True)
    return run


def failed_tests(output: str) -> list[str]:
    """The node ids in pytest's short summary lines ``FAILED id - why`` / ``ERROR id``."""
    found = []
    for line in output.splitlines():
        word, _, rest = line.partition(" ")
        if word in {"FAILED", "ERROR"} and rest:
            found.append(rest.split(" - ", 1)[0].strip())
    return found


def run_soak(quick: bool, out: Path) -> dict[str, Any] | None:
    argv = [sys.executable, "-m", "bench.soak", "--out", str(out), *(["--quick"] if quick else [])]
    print("running: " + " ".join(argv[1:]), flush=True)
    subprocess.run(argv, cwd=ROOT, timeout=900, check=False)
    if not out.exists():
        return None
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def commit_id() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
            check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "fedi_town", "tests", "bench"], cwd=ROOT,
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    changed = " with uncommitted changes in fedi_town/, tests/ or bench/" if dirty else ""
    return f"`{head}`{changed}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    soak = parser.add_mutually_exclusive_group()
    soak.add_argument("--soak", action="store_true", help="run bench.soak (3 minutes)")
    soak.add_argument("--soak-quick", action="store_true", help="run bench.soak --quick")
    soak.add_argument("--soak-json", type=Path, help="read a bench.soak --out file")
    parser.add_argument("--records", type=Path, help="read these records; run no tests")
    parser.add_argument("--save-records", type=Path, help="keep the run's records here")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "reliability.md")
    args = parser.parse_args(argv)
    given = argv if argv is not None else sys.argv[1:]
    command = " ".join(
        ["python -m bench.reliability", *(Path(a).name if "/" in a else a for a in given)]
    )
    with tempfile.TemporaryDirectory(prefix="fedi-reliability-") as tmp:
        if args.records:
            run = SuiteRun([], [])
            run.summary = f"records read from {args.records.name}"
            text = args.records.read_text()
        else:
            out = Path(tmp) / "records.jsonl"
            out.touch()
            run = run_suites(out)
            text = out.read_text()
            if args.save_records:
                args.save_records.write_text(text)
        records, skipped = read_records(text.splitlines())
        data, why = None, "not asked for: add --soak, --soak-quick or --soak-json"
        if args.soak_json:
            data = json.loads(args.soak_json.read_text())
        elif args.soak or args.soak_quick:
            data = run_soak(args.soak_quick, Path(tmp) / "soak.json")
            why = "bench.soak crashed; see its output"
    figures = render(
        aggregate(records), run, data, when=datetime.now(UTC), machine=describe(),
        commit=commit_id(), command=command.strip(), why_no_soak=why, skipped_lines=skipped,
    )  # fmt: skip
    args.doc.write_text(replace_figures(args.doc.read_text(), figures))
    print(figures)
    print(f"wrote the figures of {len(records)} records into {args.doc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
