"""One bridge replica: ``keycloak-duo-bridge serve`` in a process of its own.

Replicas behind one balancer share every key (signing key, cookie secret, key ring) and
advertise the balancer's URL (``KDB_BRIDGE_URL``), so any of them can finish a step-up
another began. Settings go to the process as ``KDB_*`` variables, the way an operator's
unit file or container sets them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import httpx2

from keycloak_duo_bridge.errors import SandboxError
from keycloak_duo_bridge.sandbox import process
from keycloak_duo_bridge.sandbox.waiting import wait_ready
from keycloak_duo_bridge.settings import Settings

START_TIMEOUT = 60.0


def environment(settings: Settings, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` without its ``KDB_*`` variables, plus every setting of ``settings`` as one."""
    env = {k: v for k, v in base.items() if not k.startswith("KDB_")}
    for name, value in settings.model_dump().items():
        if value is None or name == "jvm_search_dirs":
            continue
        text = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        env[f"KDB_{name.upper()}"] = str(text)
    return env


def serve_command(port: int) -> list[str]:
    """``keycloak-duo-bridge serve`` on loopback ``port``, with this interpreter."""
    return [sys.executable, "-m", "keycloak_duo_bridge", "serve", "--port", str(port)]


class BridgeReplica:
    """A ``serve`` process on ``port``: start, kill (a crash) and start again."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        port: int,
        log_file: Path,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.port = port
        self.log_file = log_file
        self.extra_env = dict(extra_env or {})
        self._child: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"BridgeReplica({self.name!r}, port={self.port})"

    @property
    def url(self) -> str:
        """The replica's own address (browsers use the balancer's, ``KDB_BRIDGE_URL``)."""
        return f"http://127.0.0.1:{self.port}"

    def _healthy(self) -> bool:
        try:
            return httpx2.get(f"{self.url}/healthz", timeout=1.0).status_code == httpx2.codes.OK
        except httpx2.HTTPError:
            return False

    def start(self) -> float:
        """Start the process; the seconds until ``/healthz`` answers."""
        if self._child is not None and self._child.poll() is None:
            raise SandboxError(f"bridge replica {self.name} is already running")
        env = {**environment(self.settings, os.environ), **self.extra_env}
        with self.log_file.open("ab") as log:
            child = subprocess.Popen(
                serve_command(self.port),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._child = child
        try:
            return wait_ready(
                child,
                self._healthy,
                what=f"bridge replica {self.name}",
                log=self.log_file,
                timeout=START_TIMEOUT,
            )
        except BaseException:
            self.stop()
            raise

    def kill(self) -> None:
        """SIGKILL the replica: it stops mid-request, as a crashed pod does."""
        child = self._child
        if child is not None and child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()

    def stop(self) -> None:
        """Stop the replica (TERM, then KILL after a grace)."""
        child, self._child = self._child, None
        if child is not None:
            process.terminate(child.pid, "keycloak_duo_bridge", grace=10.0)
            child.wait()
