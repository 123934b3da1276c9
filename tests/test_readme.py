"""The README says what the code does: its ports table matches the settings' defaults."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from keycloak_duo_bridge import versions
from keycloak_duo_bridge.cli.emulator import register as register_emulator
from keycloak_duo_bridge.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
ROW = re.compile(r"^\| (?P<what>[^|]+) \| `(?P<host>[\d.]+):(?P<port>\d+)` \| (?P<how>[^|]+) \|$")


def _ports_rows() -> list[re.Match[str]]:
    section = README.split("## Ports", 1)[1].split("\n## ", 1)[0]
    return [m for line in section.splitlines() if (m := ROW.match(line))]


def test_readme_starts_with_the_two_commands() -> None:
    """The first shell block is `make demo` then `make test`."""
    block = README.split("```bash\n", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in block.splitlines()] == [
        ["make", "demo"],
        ["make", "test"],
    ]


def test_ports_table_matches_the_settings() -> None:
    """Each port in the README is the default of the first KDB_* variable named beside it."""
    rows = _ports_rows()
    assert len(rows) == 6
    fields = Settings.model_fields
    for row in rows:
        assert row["host"] == fields["sandbox_host"].default
        names = re.findall(r"`KDB_([A-Z_]+)`", row["how"])
        if not names:  # the standalone emulator: its own --port option
            continue
        assert fields[names[0].lower()].default == int(row["port"]), row["what"]


def test_standalone_emulator_port_matches_its_option() -> None:
    """The README's port for `keycloak-duo-bridge emulator` is its --port default."""
    parser = argparse.ArgumentParser()
    register_emulator(parser.add_subparsers())
    args = parser.parse_args(["emulator"])
    (row,) = [r for r in _ports_rows() if "`--port`" in r["how"]]
    assert int(row["port"]) == args.port
    assert row["host"] == args.host


def test_supported_versions_table_names_the_tested_releases() -> None:
    """The README's version table lists exactly the releases the version smoke runs."""
    section = README.split("## Supported Keycloak versions", 1)[1].split("\n## ", 1)[0]
    tested = re.findall(r"^\| 26\.\d \| (26\.\d+\.\d+)", section, re.MULTILINE)
    assert tuple(tested) == versions.TESTED
    assert f"**{versions.SUPPORTED_MIN} to {versions.SUPPORTED_MAX}**" in section
