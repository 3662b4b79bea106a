"""bench/reliability.py: records become docs/reliability.md's tables, between the markers only.

No subprocess: sample records and a sample soak result go through the pure functions.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from bench.reliability import (
    END,
    START,
    SuiteRun,
    aggregate,
    failed_tests,
    outcome_text,
    read_records,
    recording_tests,
    render,
    replace_figures,
)
from bench.soak import flatness, memory_max_mb

SAMPLE = [
    {"suite": "inbox", "class": "lone surrogate in id", "outcome": "400"},
    {"suite": "inbox", "class": "lone surrogate in id", "outcome": "400"},
    {"suite": "inbox", "class": "lone surrogate in id", "outcome": "202"},
    {"suite": "signatures", "class": "expired date", "outcome": "401"},
    {"suite": "faults", "class": "database lost mid-handling", "outcome": "survived",
     "lost": 0, "duplicates": 2},
    {"suite": "faults", "class": "database lost mid-handling", "outcome": "survived",
     "lost": 0, "duplicates": 1},
    {"suite": "faults", "class": "kill -9 during fan-out", "outcome": "failed", "lost": 3},
]  # fmt: skip

WHEN = datetime(2026, 12, 6, 21, 30, tzinfo=UTC)
MACHINE = {"nproc": "2", "cpu": "Test CPU"}


def _lines(records: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(r) for r in records]


def _soak() -> dict[str, Any]:
    return {
        "servers": 50, "load_seconds": 180.2, "drain_seconds": 3.0, "quick": False,
        "rates": {"activities_per_server_s": 0.5, "gets_per_server_s": 0.5,
                  "owner_post_every_s": 5.0},
        "requests": {"Like": {"202": 90, "429": 2}, "GET actor": {"200": 40}},
        "requests_total": 132, "status_5xx": 0, "status_429": 2, "transport_errors": 0,
        "memory": {"peak_mb": 120.4, "final_mb": 118.0, "limit_mb": 400.0, "flat": True,
                   "first_third_max_mb": 115.0, "last_third_max_mb": 120.4, "margin_mb": 11.5},
        "activities": {"accepted": 90, "stored": 90, "handled": 90, "failed": 0,
                       "pending_after_drain": 0, "unaccounted": 0},
        "deliveries": {"posts": 36, "expected": 1800, "received": 1800, "lost": 0,
                       "duplicates": 1, "accepts_expected": 80, "accepts_received": 80,
                       "pending_after_drain": 0},
        "server_log": {"error_lines": 0, "first": []},
        "verdicts": {"no 5xx": True, "memory flat": True},
    }  # fmt: skip


def _render(records: list[dict[str, Any]], run: SuiteRun, soak: dict[str, Any] | None) -> str:
    found, _ = read_records(_lines(records))
    return render(aggregate(found), run, soak, when=WHEN, machine=MACHINE, commit="abc1234",
                  command="make reliability")  # fmt: skip


def test_records_are_counted_per_suite_and_class_with_their_outcomes() -> None:
    # Given records from two suites and the faults
    records, skipped = read_records(_lines(SAMPLE))

    # When they are aggregated
    tried = {(t.suite, t.case_class): t for t in aggregate(records)}

    # Then each class counts its cases and outcomes, and the faults their losses
    assert skipped == 0
    surrogate = tried["inbox", "lone surrogate in id"]
    assert (surrogate.tried, surrogate.outcomes, surrogate.fault) == (
        3,
        {"400": 2, "202": 1},
        False,
    )
    database = tried["faults", "database lost mid-handling"]
    assert (database.survived, database.lost, database.duplicates) == (2, 0, 3)
    assert database.max_duplicates == 2
    killed = tried["faults", "kill -9 during fan-out"]
    assert (killed.survived, killed.lost) == (0, 3)


def test_outcomes_read_most_frequent_first() -> None:
    # Given outcomes of one class
    outcomes = Counter({"202": 3, "400": 12, "413": 3})

    # When they are written for the table
    text = outcome_text(outcomes)

    # Then the most frequent comes first, ties by name
    assert text == "400 ×12, 202 ×3, 413 ×3"


def test_lines_that_are_not_records_are_skipped_and_counted() -> None:
    # Given a file with a half-written line, a blank line and a JSON value of another shape
    lines = [*_lines(SAMPLE[:1]), '{"suite": "inbox", "cla', "", "[1, 2]"]

    # When it is read
    records, skipped = read_records(lines)

    # Then the one record is kept and the two bad lines counted
    assert (len(records), skipped) == (1, 2)


def test_a_5xx_outcome_is_counted_apart_in_the_hostile_table() -> None:
    # Given a hostile input that got a 500
    records = [{"suite": "admin-api", "class": "huge integer", "outcome": "500"}]

    # When the figures are rendered
    text = _render(records, SuiteRun(["tests/hostile"], []), None)

    # Then its row and the summary say one 5xx
    assert "| admin-api | huge integer | 1 | 500 ×1 | 1 |" in text
    assert "| answered with a 5xx other than 503 | 1 |" in text


def test_a_503_is_the_intended_later_and_not_counted_as_a_server_error() -> None:
    # Given an input refused with 503 (a backlog over its bound) and one that got a 502
    records = [
        {"suite": "inbox", "class": "backlog over its bound", "outcome": "503"},
        {"suite": "inbox", "class": "backlog over its bound", "outcome": "502"},
    ]

    # When they are aggregated
    [backlog] = aggregate(records)

    # Then only the 502 is a server error
    assert (backlog.server_errors, backlog.failed) == (1, 1)


def test_missing_suites_are_said_in_the_tables_rather_than_failing() -> None:
    # Given neither tests/hostile nor tests/faults exists yet
    run = SuiteRun([], ["tests/hostile", "tests/faults"])

    # When the figures are rendered with no records
    text = _render([], run, None)

    # Then each table says why it is empty
    assert "tests/hostile does not exist yet" in text
    assert "tests/faults does not exist yet" in text
    assert "missing: tests/hostile, tests/faults" in text


def test_the_soak_figures_show_load_memory_and_accounting() -> None:
    # Given a soak result
    soak = _soak()

    # When the figures are rendered with it
    text = _render(SAMPLE, SuiteRun(["tests/hostile", "tests/faults"], []), soak)

    # Then the load, the peak memory and the accounting are in the table
    assert "| 5xx answers | 0 |" in text
    assert "| server RSS peak / final | 120 MB / 118 MB (MemoryMax 400 MB) |" in text
    assert "| deliveries expected / received | 1,800 / 1,800" in text
    assert "| peak memory (soak) | 120 MB |" in text
    assert "| activities lost (faults) | 3 |" in text


def test_only_the_text_between_the_markers_is_replaced() -> None:
    # Given a document with prose around the markers
    document = f"# Reliability\n\nPromises.\n\n{START}\nold table\n{END}\n\n## After\n"

    # When the figures are replaced twice
    once = replace_figures(document, "new table\n")
    twice = replace_figures(once, "newer table\n")

    # Then the prose stays, the old table is gone and a second run changes only the figures
    assert once == f"# Reliability\n\nPromises.\n\n{START}\n\nnew table\n\n{END}\n\n## After\n"
    assert twice == once.replace("new table", "newer table")


def test_a_document_without_markers_is_refused() -> None:
    # Given a document without the markers
    document = "# Reliability\n"

    # When / Then replacing the figures refuses it
    with pytest.raises(ValueError, match="figures:start"):
        replace_figures(document, "table")


def test_failed_tests_are_read_from_pytests_short_summary_and_listed() -> None:
    # Given pytest's output with a failure and an error
    output = (
        "..F.E\n"
        "FAILED tests/faults/test_disk_full.py::test_a_full_disk - assert 500 == 503\n"
        "ERROR tests/hostile/test_admin_ids.py::test_ids[sqlite]\n"
        "2 failed, 3 passed in 1.00s\n"
    )

    # When the failures are read and the figures rendered with them
    failed = failed_tests(output)
    run = SuiteRun(["tests/hostile", "tests/faults"], [], failed=failed)
    text = _render([], run, None)

    # Then both node ids are listed above the tables
    assert failed == [
        "tests/faults/test_disk_full.py::test_a_full_disk",
        "tests/hostile/test_admin_ids.py::test_ids[sqlite]",
    ]
    assert "- `tests/faults/test_disk_full.py::test_a_full_disk`" in text


def test_memory_is_flat_when_the_last_third_stays_within_the_margin_of_the_first() -> None:
    # Given RSS samples that settle, and samples that keep growing
    settled = [90.0, 95.0, 97.0, 97.5, 98.0, 98.0]
    growing = [90.0, 95.0, 110.0, 125.0, 140.0, 155.0]

    # When their flatness is judged
    calm, leak = flatness(settled), flatness(growing)

    # Then growth within max(10 MB, 10%) of the first third's max is flat, beyond it is not
    assert (calm["first_third_max_mb"], calm["last_third_max_mb"], calm["flat"]) == (95, 98, True)
    assert (leak["last_third_max_mb"], leak["flat"]) == (155, False)


def test_the_memory_limit_is_read_from_the_service_units_memory_max(tmp_path) -> None:
    # Given a unit file with MemoryMax in gigabytes
    unit = tmp_path / "fedi-town.service"
    unit.write_text("[Service]\nMemoryMax=1G\n")

    # When the limit is read
    limit = memory_max_mb(unit)

    # Then it is in MB
    assert limit == 1024


def test_test_files_that_record_cases_outside_the_suites_are_run_too(tmp_path) -> None:
    # Given a tree with a suite directory, a recording test elsewhere and one that does not
    hostile = tmp_path / "tests" / "hostile"
    hostile.mkdir(parents=True)
    (hostile / "test_a.py").write_text("from tests.reliability import record\n")
    (tmp_path / "tests" / "test_serving.py").write_text(
        "def test_x():\n    from tests.reliability import record\n"
    )
    (tmp_path / "tests" / "test_other.py").write_text("from bench.reliability import render\n")

    # When the recording test files are looked for
    found = recording_tests(tmp_path)

    # Then only the one outside the suite directories that records is named
    assert found == ["tests/test_serving.py"]


def test_a_fault_whose_outcome_is_a_figure_is_neither_survived_nor_failed() -> None:
    # Given a fault that survived, one that failed and one measured by a figure
    records = [
        {"suite": "faults", "class": "swept", "outcome": "rows=1000"},
        {"suite": "faults", "class": "swept", "outcome": "survived"},
        {"suite": "faults", "class": "swept", "outcome": "failed"},
    ]

    # When they are aggregated
    [swept] = aggregate(records)

    # Then one counts as survived, one as failed, and the figure as neither
    assert (swept.tried, swept.survived, swept.failed) == (3, 1, 1)


def test_a_fault_whose_test_passed_counts_as_held_whatever_figure_it_recorded():
    # Given a fault recorded with a figure, not the word "survived"
    tried = aggregate(
        [{"suite": "faults", "class": "disk full", "outcome": "503", "lost": 0, "duplicates": 0}]
    )
    [fault] = [t for t in tried if t.fault]
    # Then it held when no test of the run failed, and not when one did
    assert fault.held(SuiteRun(present=["tests/faults"], missing=[])) == 1
    assert fault.held(SuiteRun(present=["tests/faults"], missing=[], failed=["t::x"])) == 0
