"""deploy/*.service: valid for systemd, hardened to an exposure level of 3 or less."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.deploy.tools import DEPLOY, run, tool

UNITS = ["fedi-town.service", "fedi-town-worker@.service"]
INSTALLED_COMMAND = "/opt/fedi-town/bin/fedi-town"
#: `systemd-analyze security` rates 0 (locked down) to 10 (exposed); the issue asks for <= 3.
MAX_EXPOSURE = 3.0


def directives(unit: Path) -> list[tuple[str, str]]:
    """Each ``Key=value`` of a unit file, in order (a key may repeat)."""
    found = []
    for line in unit.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            found.append((key.strip(), value.strip()))
    return found


def runnable_copy(unit: str, into: Path) -> Path:
    """The unit with its command pointed at a fedi-town that exists here, for `verify`."""
    here = Path(sys.executable).with_name("fedi-town")
    command = str(here if here.exists() else Path(sys.executable))
    copy = into / unit
    copy.write_text((DEPLOY / unit).read_text().replace(INSTALLED_COMMAND, command))
    return copy


@pytest.mark.parametrize("unit", UNITS)
def test_systemd_finds_nothing_wrong_in_the_unit(unit, tmp_path):
    # Given the unit, its command pointing at an installed fedi-town
    analyze = tool("systemd-analyze")
    copy = runnable_copy(unit, tmp_path)
    # When systemd checks it
    result = run(analyze, "verify", copy)
    # Then it has no error and no warning (an unknown or misspelt directive is a warning)
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


@pytest.mark.parametrize("unit", UNITS)
def test_the_unit_is_rated_exposure_3_or_less_by_systemd_analyze_security(unit):
    # Given the unit as shipped
    analyze = tool("systemd-analyze")
    # When systemd rates its sandbox offline, with a threshold of 3.0 (given as 30)
    result = run(
        analyze,
        "security",
        "--offline=true",
        f"--threshold={int(MAX_EXPOSURE * 10)}",
        "--no-pager",
        DEPLOY / unit,
    )
    # Then it passes the threshold, and the level it prints is at most 3.0
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    level = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert level is not None, result.stdout[-500:]
    assert float(level.group(1)) <= MAX_EXPOSURE


def test_the_threshold_check_fails_a_unit_without_hardening(tmp_path):
    # Given a unit that runs the same command with no sandbox at all
    analyze = tool("systemd-analyze")
    bare = tmp_path / "bare.service"
    bare.write_text(f"[Service]\nExecStart={INSTALLED_COMMAND} serve\n")
    # When it is rated with the same threshold
    result = run(analyze, "security", "--offline=true", "--threshold=30", "--no-pager", bare)
    # Then the check fails it (so the passing units passed on their own merit)
    assert result.returncode != 0


@pytest.mark.parametrize("unit", UNITS)
def test_the_unit_runs_as_its_own_user_with_private_files_and_a_read_only_system(unit):
    # Given the unit's directives
    found = directives(DEPLOY / unit)
    settings = dict(found)
    # Then it runs as fedi-town with its environment file, files private to it
    assert settings["User"] == settings["Group"] == "fedi-town"
    assert settings["EnvironmentFile"] == "/etc/fedi-town/fedi-town.env"
    assert settings["UMask"] == "0077"
    # And only its state directory is writable, with a private /tmp and no home directories
    assert settings["ProtectSystem"] == "strict"
    assert settings["ReadWritePaths"] == "/var/lib/fedi-town"
    assert settings["PrivateTmp"] == settings["ProtectHome"] == "true"
    assert settings["NoNewPrivileges"] == "true"
    # And no capability, internet and local sockets only, the system-service calls only
    assert settings["CapabilityBoundingSet"] == ""
    assert settings["RestrictAddressFamilies"] == "AF_INET AF_INET6 AF_UNIX"
    assert ("SystemCallFilter", "@system-service") in found
    # And it comes back after a crash
    assert settings["Restart"] == "on-failure"
    assert settings["ExecStart"].startswith(INSTALLED_COMMAND + " ")


def test_the_web_service_migrates_before_it_serves_and_keeps_its_memory_ceiling():
    # Given the web service's directives
    settings = dict(directives(DEPLOY / "fedi-town.service"))
    # Then it applies migrations first, serves, and stays under 400 MB
    assert settings["ExecStartPre"] == f"{INSTALLED_COMMAND} migrate"
    assert settings["ExecStart"] == f"{INSTALLED_COMMAND} serve"
    assert settings["MemoryMax"] == "400M"
