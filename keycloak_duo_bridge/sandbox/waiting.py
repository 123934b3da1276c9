"""Wait for a child process to become ready, or say why it did not."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from keycloak_duo_bridge.errors import SandboxError, StartTimeoutError

_POLL_SECONDS = 0.5
_LOG_TAIL_LINES = 15


def log_tail(log: Path, lines: int = _LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file, or "" when it cannot be read."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def wait_ready(
    child: subprocess.Popen[bytes],
    ready: Callable[[], bool],
    *,
    what: str,
    log: Path,
    timeout: float,
) -> float:
    """Poll ``ready`` until it holds; the seconds it took. Raises if ``child`` exits first
    or ``timeout`` passes (the caller stops the child)."""
    started = time.monotonic()
    while not ready():
        if child.poll() is not None:
            raise SandboxError(
                f"{what} exited with code {child.returncode} while starting; "
                f"see {log}:\n{log_tail(log)}"
            )
        if time.monotonic() - started > timeout:
            raise StartTimeoutError(f"{what} was not ready after {timeout:.0f} s; see {log}")
        time.sleep(_POLL_SECONDS)
    return time.monotonic() - started
