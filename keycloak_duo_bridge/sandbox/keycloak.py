"""The sandbox Keycloak: the real 26.7.3 server, in dev mode, with our extension loaded.

``up`` fetches and verifies the distribution, unpacks it into the state dir, compiles the
extension into ``providers/``, starts ``kc.sh start-dev --db=dev-mem --health-enabled=true``
on the configured loopback ports and waits for ``/health/ready``. ``down`` stops exactly
the process that ``up`` started, found through the state file.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from keycloak_duo_bridge import extension
from keycloak_duo_bridge.errors import PortBusyError, SandboxError, StartTimeoutError
from keycloak_duo_bridge.jdk import find_jdk
from keycloak_duo_bridge.sandbox import distribution, process, secrets
from keycloak_duo_bridge.sandbox.ports import is_free
from keycloak_duo_bridge.settings import Settings

Progress = Callable[[str], None]
_POLL_SECONDS = 1.0
_REPORT_EVERY_SECONDS = 10.0
_LOG_TAIL_LINES = 15


def _quiet(_message: str) -> None:
    """Default progress sink: say nothing."""


@dataclass(frozen=True)
class KeycloakStatus:
    """What ``status`` reports about the sandbox Keycloak."""

    running: bool
    ready: bool
    pid: int | None
    url: str | None
    version: str | None
    log: Path


class SandboxKeycloak:
    """One sandbox Keycloak, identified by its state dir."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.state_dir = settings.state_dir
        self.home = self.state_dir / f"keycloak-{settings.keycloak_version}"
        self.state_file = self.state_dir / "keycloak.json"
        self.log_file = self.state_dir / "keycloak.log"
        self._child: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"SandboxKeycloak(state_dir={str(self.state_dir)!r})"

    @property
    def url(self) -> str:
        return f"http://{self.settings.sandbox_host}:{self.settings.sandbox_http_port}"

    @property
    def health_url(self) -> str:
        host, port = self.settings.sandbox_host, self.settings.sandbox_management_port
        return f"http://{host}:{port}/health/ready"

    # -- preparation ---------------------------------------------------------------------

    def prepare(self, progress: Progress = _quiet) -> Path:
        """Fetch, verify and unpack Keycloak, then build the extension into ``providers/``."""
        settings = self.settings
        archive = distribution.fetch(
            settings.cache_dir,
            settings.keycloak_version,
            settings.maven_repository,
            progress=progress,
        )
        home = distribution.unpack(archive, self.state_dir, settings.keycloak_version)
        jar = extension.build(
            home,
            home / "providers" / extension.JAR_NAME,
            search_dirs=settings.jvm_search_dirs,
        )
        progress(f"built the extension into {jar}")
        return home

    # -- lifecycle -----------------------------------------------------------------------

    def _recorded(self) -> dict[str, Any] | None:
        state = process.read_state(self.state_file)
        if state is None:
            return None
        pid = state.get("pid")
        if isinstance(pid, int) and process.owns(pid, str(self.home)):
            return state
        self.state_file.unlink(missing_ok=True)  # stale: that process is gone
        return None

    def _check_ports(self) -> None:
        host = self.settings.sandbox_host
        for name, port in (
            ("HTTP", self.settings.sandbox_http_port),
            ("management", self.settings.sandbox_management_port),
        ):
            if not is_free(host, port):
                variable = (
                    "KDB_SANDBOX_HTTP_PORT" if name == "HTTP" else "KDB_SANDBOX_MANAGEMENT_PORT"
                )
                raise PortBusyError(
                    f"port {host}:{port} ({name}) is already in use; stop what listens "
                    f"there or choose another port with {variable}"
                )

    def command(self) -> list[str]:
        settings = self.settings
        return [
            str(self.home / "bin" / "kc.sh"),
            "start-dev",
            "--db=dev-mem",
            "--health-enabled=true",
            f"--http-host={settings.sandbox_host}",
            f"--http-port={settings.sandbox_http_port}",
            f"--http-management-port={settings.sandbox_management_port}",
            # CIBA's HTTP authentication channel is the bridge (server-wide; the bridge
            # routes each request by the realm of Keycloak's bearer token)
            (
                "--spi-ciba-auth-channel--ciba-http-auth-channel--http-authentication-channel-uri="
                f"{settings.bridge_url.rstrip('/')}/ciba/channel"
            ),
        ]

    def up(self, progress: Progress = _quiet) -> KeycloakStatus:
        """Start the sandbox Keycloak (or report the one already running) and wait until ready."""
        if self._recorded() is not None:
            progress(f"Keycloak already running at {self.url}")
            return self.status()
        self._check_ports()
        jdk = find_jdk(os.environ, self.settings.jvm_search_dirs)
        self.prepare(progress)
        env = {
            **os.environ,
            "JAVA_HOME": str(jdk.home),
            "KC_BOOTSTRAP_ADMIN_USERNAME": self.settings.sandbox_admin_username,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": self.settings.sandbox_admin_password.get_secret_value(),
        }
        progress(f"starting Keycloak {self.settings.keycloak_version} on Java {jdk.version}")
        with self.log_file.open("wb") as log:
            child = subprocess.Popen(
                self.command(),
                cwd=self.home,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._child = child
        process.write_state(
            self.state_file,
            {
                "pid": child.pid,
                "home": str(self.home),
                "url": self.url,
                "health_url": self.health_url,
                "version": self.settings.keycloak_version,
                "admin_realm": "master",
                "admin_username": self.settings.sandbox_admin_username,
                "admin_password": self.settings.sandbox_admin_password.get_secret_value(),
                "log": str(self.log_file),
                "started_at": time.time(),
            },
        )
        self._wait_ready(child, progress)
        return self.status()

    def _wait_ready(self, child: subprocess.Popen[bytes], progress: Progress) -> None:
        started = time.monotonic()
        deadline = started + self.settings.sandbox_start_timeout
        next_report = started + _REPORT_EVERY_SECONDS
        with httpx2.Client(timeout=httpx2.Timeout(2.0)) as client:
            while True:
                if child.poll() is not None:
                    self.state_file.unlink(missing_ok=True)
                    raise SandboxError(
                        f"Keycloak exited with code {child.returncode} while starting; "
                        f"see {self.log_file}:\n{self.log_tail()}"
                    )
                if _is_ready(client, self.health_url):
                    elapsed = time.monotonic() - started
                    progress(
                        f"Keycloak {self.settings.keycloak_version} ready at {self.url} "
                        f"after {elapsed:.1f} s"
                    )
                    return
                now = time.monotonic()
                if now > deadline:
                    self.down()
                    timeout = self.settings.sandbox_start_timeout
                    raise StartTimeoutError(
                        f"Keycloak was not ready after {timeout:.0f} s; see the log {self.log_file}"
                    )
                if now >= next_report:
                    progress(f"waiting for Keycloak to be ready ({now - started:.0f} s)")
                    next_report = now + _REPORT_EVERY_SECONDS
                time.sleep(_POLL_SECONDS)

    def down(self, progress: Progress = _quiet) -> bool:
        """Stop the Keycloak that ``up`` started. False when none was running."""
        state = self._recorded()
        if state is None:
            progress("Keycloak is not running")
            return False
        stopped = process.terminate(int(state["pid"]), str(self.home))
        if self._child is not None:
            self._child.wait()
            self._child = None
        self.state_file.unlink(missing_ok=True)
        progress("Keycloak stopped" if stopped else "Keycloak had already stopped")
        return stopped

    def status(self) -> KeycloakStatus:
        state = self._recorded()
        if state is None:
            return KeycloakStatus(
                running=False, ready=False, pid=None, url=None, version=None, log=self.log_file
            )
        with httpx2.Client(timeout=httpx2.Timeout(2.0)) as client:
            ready = _is_ready(client, str(state["health_url"]))
        return KeycloakStatus(
            running=True,
            ready=ready,
            pid=int(state["pid"]),
            url=str(state["url"]),
            version=str(state["version"]),
            log=self.log_file,
        )

    def environment(self) -> dict[str, str]:
        """``KDB_*`` variables that point every other command at the running sandbox, and at
        the bridge of the local stack: its host, port and URL (``KDB_BRIDGE_URL``, which
        ``duo enable`` wires realms to), and the demo's ports."""
        state = self._recorded()
        if state is None:
            raise SandboxError(
                "the sandbox Keycloak is not running; start it with "
                "`keycloak-duo-bridge sandbox keycloak up`"
            )
        settings = self.settings
        return {
            "KDB_KEYCLOAK_URL": str(state["url"]),
            "KDB_KEYCLOAK_ADMIN_REALM": str(state["admin_realm"]),
            "KDB_KEYCLOAK_ADMIN_USERNAME": str(state["admin_username"]),
            "KDB_KEYCLOAK_ADMIN_PASSWORD": str(state["admin_password"]),
            # the bridge: where `serve` and `demo` listen, and what `duo enable` wires
            "KDB_BRIDGE_HOST": settings.bridge_host,
            "KDB_BRIDGE_PORT": str(settings.bridge_port),
            "KDB_BRIDGE_URL": settings.bridge_url,
            "KDB_DEMO_APP_PORT": str(settings.demo_app_port),
            "KDB_DEMO_DUO_PORT": str(settings.demo_duo_port),
            **secrets.ensure(self.state_dir),
        }

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _is_ready(client: httpx2.Client, url: str) -> bool:
    try:
        response = client.get(url)
    except httpx2.HTTPError:
        return False
    return response.status_code == httpx2.codes.OK
