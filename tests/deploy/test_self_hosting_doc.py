"""docs/self-hosting.md: reachable from the README, and it uses every file of deploy/."""

from __future__ import annotations

from tests.deploy.tools import DEPLOY, ROOT

GUIDE = ROOT / "docs" / "self-hosting.md"


def test_the_readme_links_the_self_hosting_guide():
    # Given the README
    readme = (ROOT / "README.md").read_text()
    # Then it links the guide
    assert "(docs/self-hosting.md)" in readme


def test_the_guide_uses_every_file_of_deploy():
    # Given the guide and the files in deploy/
    guide = GUIDE.read_text()
    # Then each file is installed or named by the guide
    missing = [f.name for f in DEPLOY.iterdir() if f"deploy/{f.name}" not in guide]
    assert missing == []


def test_the_guide_uses_the_paths_the_units_use():
    # Given the web unit
    unit = (DEPLOY / "fedi-town.service").read_text()
    guide = GUIDE.read_text()
    # Then the guide installs to where the unit runs from and writes the file it reads
    for path in ("/opt/fedi-town/bin/fedi-town", "/etc/fedi-town/fedi-town.env"):
        assert path in unit and path in guide
    assert "make install-prod PREFIX=/opt/fedi-town" in guide
    assert "useradd --system" in guide
