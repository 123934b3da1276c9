"""Owning, recording and stopping background processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from keycloak_duo_bridge.sandbox import process


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process in its own group whose command line carries tmp_path as the marker; yielded
    once it runs (before its exec, its command line is still the parent's)."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; print(1, flush=True); time.sleep(60)", str(tmp_path)],
        start_new_session=True,
        stdout=subprocess.PIPE,
    )
    assert child.stdout is not None
    child.stdout.readline()
    yield child
    if child.poll() is None:
        child.kill()
    child.wait()
    child.stdout.close()


def test_owns_only_the_marked_live_process(
    sleeper: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    """A pid is ours only while alive and while its command line holds the marker."""
    assert process.owns(sleeper.pid, str(tmp_path))
    assert not process.owns(sleeper.pid, "/some/other/home")
    assert not process.owns(os.getpid(), str(tmp_path))
    assert process.cmdline(2**22 + 7) == ""
    assert not process.is_alive(2**22 + 7)


def test_terminate_stops_our_process(sleeper: subprocess.Popen[bytes], tmp_path: Path) -> None:
    """TERM stops the process; a zombie counts as stopped."""
    assert process.terminate(sleeper.pid, str(tmp_path))
    assert sleeper.wait(timeout=10) == -15


def test_terminate_refuses_a_foreign_process(sleeper: subprocess.Popen[bytes]) -> None:
    """Nothing is signalled when the pid does not carry our marker."""
    assert not process.terminate(sleeper.pid, "/not/ours")
    assert sleeper.poll() is None


def test_terminate_kills_a_process_that_ignores_term(tmp_path: Path) -> None:
    """A process that ignores TERM is killed after the grace period."""
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print(1, flush=True); time.sleep(60)"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)],
        start_new_session=True,
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        child.stdout.readline()  # the TERM handler is installed
        assert process.terminate(child.pid, str(tmp_path), grace=0.5)
        assert child.wait(timeout=10) == -9
    finally:
        child.stdout.close()  # type: ignore[union-attr]
        if child.poll() is None:  # pragma: no cover - only when the assertion above failed
            child.kill()


def test_state_round_trip_is_private(tmp_path: Path) -> None:
    """State is written owner-readable only and read back; junk reads as no state."""
    path = tmp_path / "deep" / "state.json"
    process.write_state(path, {"pid": 1, "url": "http://x"})
    assert process.read_state(path) == {"pid": 1, "url": "http://x"}
    assert path.stat().st_mode & 0o777 == 0o600
    path.write_text("[1, 2]")
    assert process.read_state(path) is None
    path.write_text("{not json")
    assert process.read_state(path) is None
    assert process.read_state(tmp_path / "absent.json") is None
