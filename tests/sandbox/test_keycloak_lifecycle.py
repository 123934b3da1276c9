"""Sandbox lifecycle edges that need no real Keycloak: nothing running, early exit, timeout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.errors import SandboxError, StartTimeoutError
from keycloak_duo_bridge.sandbox import process
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.settings import load_settings


def sandbox(tmp_path: Path, **overrides: object) -> SandboxKeycloak:
    return SandboxKeycloak(
        load_settings(
            state_dir=tmp_path,
            sandbox_http_port=free_port(),
            sandbox_management_port=free_port(),
            **overrides,
        )
    )


def test_nothing_running(tmp_path: Path) -> None:
    """Without a started server: status says not running, down is a no-op, env refuses."""
    keycloak = sandbox(tmp_path)
    assert repr(keycloak) == f"SandboxKeycloak(state_dir={str(tmp_path)!r})"
    status = keycloak.status()
    assert (status.running, status.ready, status.pid) == (False, False, None)
    messages: list[str] = []
    assert keycloak.down(progress=messages.append) is False
    assert messages == ["Keycloak is not running"]
    with pytest.raises(SandboxError, match="sandbox keycloak up"):
        keycloak.environment()
    assert keycloak.log_tail() == ""


def test_stale_state_is_discarded(tmp_path: Path) -> None:
    """A state file whose process is gone is removed, not trusted."""
    keycloak = sandbox(tmp_path)
    process.write_state(keycloak.state_file, {"pid": 2**22 + 11})
    assert keycloak.status().running is False
    assert not keycloak.state_file.exists()


def test_cli_reports_a_stopped_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`status` exits 3 when stopped; `down` says it was not running; `env` fails cleanly."""
    monkeypatch.setenv("KDB_STATE_DIR", str(tmp_path))
    assert main(["sandbox", "keycloak", "status"]) == 3
    assert main(["sandbox", "keycloak", "down"]) == 0
    assert main(["sandbox", "env"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "Keycloak: not running\nKeycloak was not running\n"
    assert captured.err == (
        "error: the sandbox Keycloak is not running; start it with "
        "`keycloak-duo-bridge sandbox keycloak up`\n"
    )


def test_early_exit_names_the_log(tmp_path: Path) -> None:
    """A server that exits while starting fails at once, quoting the log's tail."""
    keycloak = sandbox(tmp_path)
    keycloak.log_file.write_text("line 1\nERROR: port clash\n")
    child = subprocess.Popen([sys.executable, "-c", "raise SystemExit(4)"])
    child.wait()
    with pytest.raises(SandboxError, match=r"exited with code 4.*keycloak\.log:\nline 1\nERROR"):
        keycloak._wait_ready(child, lambda _m: None)


def test_start_timeout_stops_the_server_and_names_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server never ready within the timeout is stopped; the error names the log file."""
    monkeypatch.setattr("keycloak_duo_bridge.sandbox.keycloak._REPORT_EVERY_SECONDS", 0.5)
    keycloak = sandbox(tmp_path, sandbox_start_timeout=1.5)
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", str(keycloak.home)],
        start_new_session=True,
    )
    process.write_state(keycloak.state_file, {"pid": child.pid})
    keycloak._child = child
    messages: list[str] = []
    with pytest.raises(StartTimeoutError, match=rf"not ready after 2 s; see the log {tmp_path}"):
        keycloak._wait_ready(child, messages.append)
    assert child.poll() is not None
    assert not keycloak.state_file.exists()
    assert messages
    assert all(m.startswith("waiting for Keycloak to be ready (") for m in messages)
