"""Keycloak as production runs it: ``kc.sh build`` once, then ``kc.sh start --optimized``.

The commands here are the ones an operator runs, and the ones the production-mode tests
run: :func:`build_command` bakes the build-time options (PostgreSQL, health, the
distributed ``ispn`` cache) into the distribution, with the extension in ``providers/``;
:func:`start_command` starts one node on it with a public hostname, TLS, the database and
its own JGroups port. Nodes on the same database find each other through it (Keycloak's
default ``jdbc-ping`` stack) and form one cluster. Secrets (the database password, the
first admin's password) go in the environment, never on the command line.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import ssl
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx2

from keycloak_duo_bridge import extension, recipes
from keycloak_duo_bridge.errors import SandboxError
from keycloak_duo_bridge.jdk import find_jdk
from keycloak_duo_bridge.sandbox import distribution, process
from keycloak_duo_bridge.sandbox.ports import is_free
from keycloak_duo_bridge.sandbox.postgres import Database
from keycloak_duo_bridge.sandbox.tls import ServerTls
from keycloak_duo_bridge.sandbox.waiting import log_tail, wait_ready
from keycloak_duo_bridge.settings import Settings

Progress = Callable[[str], None]
# The deploy recipes' build-time options (recipes.KC_BUILD), so tests run what operators run.
BUILD_OPTIONS = recipes.KC_BUILD[2:]
# JGroups' failure detection listens on the bind port + 50000 (FD_SOCK2's offset).
FD_PORT_OFFSET = 50000
HEAP = "-Xms64m -Xmx768m"


def _quiet(_message: str) -> None:
    """Default progress sink: say nothing."""


def build_command(home: Path) -> list[str]:
    """``kc.sh build`` with the build-time options every node of the cluster shares."""
    return [str(home / "bin" / "kc.sh"), "build", *BUILD_OPTIONS]


@dataclass(frozen=True)
class NodeConfig:
    """What makes one node: where browsers reach the cluster, its own ports, TLS, database."""

    name: str
    public_url: str  # --hostname: the load balancer's URL (or the node's own, alone)
    https_port: int
    management_port: int
    jgroups_port: int
    tls: ServerTls
    database: Database
    host: str = "127.0.0.1"
    db_pool_max_size: int = 20


def start_command(home: Path, node: NodeConfig) -> list[str]:
    """``kc.sh start --optimized`` for ``node`` (the password comes from ``KC_DB_PASSWORD``)."""
    return [
        str(home / "bin" / "kc.sh"),
        "start",
        "--optimized",
        f"--hostname={node.public_url}",
        f"--http-host={node.host}",
        f"--https-port={node.https_port}",
        f"--https-certificate-file={node.tls.certificate}",
        f"--https-certificate-key-file={node.tls.key}",
        f"--http-management-port={node.management_port}",
        f"--db-url={node.database.jdbc_url}",
        f"--db-username={node.database.username}",
        f"--db-pool-max-size={node.db_pool_max_size}",
        f"--cache-embedded-network-bind-address={node.host}",
        f"--cache-embedded-network-bind-port={node.jgroups_port}",
    ]


def jgroups_port(
    host: str = "127.0.0.1", low: int = 7800, high: int = 15000, tries: int = 200
) -> int:
    """A free JGroups bind port whose failure-detection port (+50000) is free too."""
    for _ in range(tries):
        port = random.randrange(low, high)  # noqa: S311 - a port, not a secret
        if is_free(host, port) and is_free(host, port + FD_PORT_OFFSET):
            return port
    raise SandboxError(f"no free JGroups port in {low}-{high} on {host}")


def build_distribution(
    settings: Settings, root: Path, progress: Progress = _quiet
) -> tuple[Path, float]:
    """Unpack Keycloak into ``root``, add the extension, run ``kc.sh build``: the home and
    the seconds the build took."""
    archive = distribution.fetch(
        settings.cache_dir, settings.keycloak_version, settings.maven_repository, progress=progress
    )
    home = distribution.unpack(archive, root, settings.keycloak_version)
    extension.build(
        home, home / "providers" / extension.JAR_NAME, search_dirs=settings.jvm_search_dirs
    )
    env = {**os.environ, "JAVA_HOME": str(find_jdk(os.environ, settings.jvm_search_dirs).home)}
    log = root / "kc-build.log"
    with log.open("wb") as out:
        child = subprocess.Popen(
            build_command(home), cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        seconds = wait_ready(
            child, lambda: child.poll() == 0, what="kc.sh build", log=log, timeout=600
        )
    progress(f"kc.sh build took {seconds:.0f} s")
    return home, seconds


def node_home(built: Path, target: Path) -> Path:
    """A node's own copy of the built distribution (hard links: instant, no extra space),
    so each node has its own ``data/`` next to the same build."""
    shutil.copytree(built, target, copy_function=os.link, symlinks=True)
    return target


class ProductionNode:
    """One ``kc.sh start`` process on its own copy of the built distribution."""

    def __init__(
        self,
        home: Path,
        config: NodeConfig,
        *,
        settings: Settings,
        log_file: Path,
    ) -> None:
        self.home = home
        self.config = config
        self.settings = settings
        self.log_file = log_file
        self._child: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"ProductionNode({self.config.name!r}, https_port={self.config.https_port})"

    @property
    def url(self) -> str:
        """The node's own address (the cluster's public one is ``config.public_url``)."""
        return f"https://{self.config.tls.hostname}:{self.config.https_port}"

    @property
    def health_url(self) -> str:
        return f"https://{self.config.host}:{self.config.management_port}/health/ready"

    def environment(self) -> Mapping[str, str]:
        settings = self.settings
        jdk = find_jdk(os.environ, settings.jvm_search_dirs)
        return {
            **os.environ,
            "JAVA_HOME": str(jdk.home),
            "JAVA_OPTS_KC_HEAP": HEAP,
            "KC_DB_PASSWORD": self.config.database.password,
            "KC_BOOTSTRAP_ADMIN_USERNAME": settings.sandbox_admin_username,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": settings.sandbox_admin_password.get_secret_value(),
        }

    def launch(self) -> None:
        """Start ``kc.sh start`` without waiting (see :meth:`wait`)."""
        if self.running:
            raise SandboxError(f"{self.config.name} is already running")
        with self.log_file.open("ab") as log:
            self._child = subprocess.Popen(
                start_command(self.home, self.config),
                cwd=self.home,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait(self, timeout: float | None = None) -> float:
        """Wait until ``/health/ready`` answers 200; the seconds it took."""
        child = self._child
        if child is None:
            raise SandboxError(f"{self.config.name} was not launched")
        context = ssl.create_default_context(cafile=str(self.config.tls.ca))
        with httpx2.Client(verify=context, timeout=httpx2.Timeout(2.0)) as client:

            def ready() -> bool:
                try:
                    return client.get(self.health_url).status_code == httpx2.codes.OK
                except httpx2.HTTPError:
                    return False

            try:
                return wait_ready(
                    child,
                    ready,
                    what=f"Keycloak node {self.config.name}",
                    log=self.log_file,
                    timeout=timeout or self.settings.sandbox_start_timeout,
                )
            except BaseException:
                self.stop()
                raise

    def start(self) -> float:
        """Launch and wait until ready; the seconds it took."""
        self.launch()
        return self.wait()

    @property
    def running(self) -> bool:
        return self._child is not None and self._child.poll() is None

    def kill(self) -> None:
        """SIGKILL the node and its process group: a crash, with no goodbye to the cluster."""
        child = self._child
        if child is not None and process.owns(child.pid, str(self.home)):
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()

    def stop(self) -> None:
        """Stop the node the way an orchestrator does: TERM, then KILL after a grace."""
        child, self._child = self._child, None
        if child is not None:
            process.terminate(child.pid, str(self.home))
            child.wait()

    def log_tail(self, lines: int = 15) -> str:
        return log_tail(self.log_file, lines)
