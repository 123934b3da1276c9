"""Start, watch and stop a background service that we own, through a state file.

The state file records the pid together with a marker that must appear in the process's
command line, so ``stop`` only ever signals the process that ``start`` created, never one
found by name, and never an unrelated process that reused the pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_STOP_GRACE_SECONDS = 30.0
_POLL_SECONDS = 0.2


def cmdline(pid: int) -> str:
    """The command line of ``pid`` joined by spaces, or "" when there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")


def is_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, exited but not reaped, counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def owns(pid: int, marker: str) -> bool:
    """True when ``pid`` is alive and its command line contains ``marker``."""
    return is_alive(pid) and marker in cmdline(pid)


def read_state(path: Path) -> dict[str, Any] | None:
    """The recorded state, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_state(path: Path, state: Mapping[str, Any]) -> None:
    """Write the state file readable by its owner only (it may hold sandbox credentials)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(dict(state), handle, indent=2)
    partial.replace(path)


def terminate(pid: int, marker: str, grace: float = _STOP_GRACE_SECONDS) -> bool:
    """Stop our process ``pid`` and its process group: TERM, then KILL after ``grace``.

    Returns False, signalling nothing, when ``pid`` is not (or no longer) our process.
    """
    if not owns(pid, marker):
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while is_alive(pid):
        if time.monotonic() > deadline:
            _signal_group(pid, signal.SIGKILL)
            deadline = time.monotonic() + grace
        time.sleep(_POLL_SECONDS)
    return True


def _signal_group(pid: int, signum: int) -> None:
    # The process may exit between the liveness check and the signal: that is success.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)
