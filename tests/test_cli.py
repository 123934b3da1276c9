"""The console script: subcommands, one-line errors, exit codes."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from keycloak_duo_bridge import cli
from keycloak_duo_bridge.cli import _admin
from keycloak_duo_bridge.errors import ConfigError


def test_help_lists_the_subcommands() -> None:
    """The installed console script's --help lists every subcommand."""
    script = Path(sys.executable).parent / "keycloak-duo-bridge"
    result = subprocess.run([script, "--help"], capture_output=True, text=True, check=True)
    for command in ("sandbox", "extension"):
        assert command in result.stdout


def test_python_dash_m_runs_the_cli() -> None:
    """`python -m keycloak_duo_bridge --version` prints the version."""
    result = subprocess.run(
        [sys.executable, "-m", "keycloak_duo_bridge", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("keycloak-duo-bridge 0.1.0")


def test_missing_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """No subcommand is a usage error (exit 2), as argparse reports it."""
    with pytest.raises(SystemExit) as caught:
        cli.main([])
    assert caught.value.code == 2
    assert "required: COMMAND" in capsys.readouterr().err


def test_bad_setting_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad KDB_ variable gives one line naming it and exit 1, no traceback."""
    monkeypatch.setenv("KDB_SANDBOX_HTTP_PORT", "nope")
    assert cli.main(["sandbox", "keycloak", "status"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: invalid settings: KDB_SANDBOX_HTTP_PORT:")
    assert "Traceback" not in err


def test_debug_shows_the_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    """With --debug the error propagates with its traceback."""
    monkeypatch.setenv("KDB_SANDBOX_HTTP_PORT", "nope")
    with pytest.raises(ConfigError):
        cli.main(["--debug", "sandbox", "keycloak", "status"])


def test_interrupt_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C ends a command with exit 130 and a short message."""

    def interrupted(args: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.sandbox, "keycloak_status", interrupted)
    assert cli.main(["sandbox", "keycloak", "status"]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_commands_say_when_they_fall_back_to_a_default_address(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without KDB_KEYCLOAK_URL or KDB_BRIDGE_URL, a command says on stderr what it uses."""
    for name in ("KDB_KEYCLOAK_URL", "KDB_BRIDGE_URL", "KDB_BRIDGE_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KDB_BRIDGE_PORT", "8100")
    config = _admin.settings()
    _admin.connect(config)  # python-keycloak connects only at the first call
    assert _admin.bridge_url(config) == "http://127.0.0.1:8100"
    err = capsys.readouterr().err.splitlines()
    assert [line.split(" (")[0] for line in err] == [
        "note: KDB_KEYCLOAK_URL is not set; using http://127.0.0.1:8080",
        "note: KDB_BRIDGE_URL is not set; using http://127.0.0.1:8100",
    ]
    monkeypatch.setenv("KDB_KEYCLOAK_URL", "http://kc.example:8080")
    monkeypatch.setenv("KDB_BRIDGE_URL", "http://127.0.0.1:8100")
    config = _admin.settings()
    _admin.connect(config)
    _admin.bridge_url(config)
    assert capsys.readouterr().err == ""
