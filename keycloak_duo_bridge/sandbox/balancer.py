"""A real load balancer in front of a pair of servers: Debian's HAProxy, config generated here.

Round robin per request, no stickiness, so consecutive hops of one login really cross
servers. A dead server is taken out by health checks, and a request that finds it dead
(refused connection, or no answer at all) is retried on another (``option redispatch``,
``retry-on conn-failure empty-response``), so the browser sees neither the crash nor a 5xx
from the balancer. If every server fails its health check at once (Keycloak's readiness
includes a cluster health check that reports DOWN for a while on the node that just lost
its peer), the balancer does not answer 503 itself: each server is listed again as an
unchecked ``backup`` (``<name>-fallback``), used only then. Each answer names the server
that gave it (``X-Kdb-Served-By``); with ``pin_header`` set, a request carrying that header
goes to the server it names (tests use it to put two hops of one login on different
servers on purpose).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from keycloak_duo_bridge.errors import SandboxError
from keycloak_duo_bridge.sandbox import process
from keycloak_duo_bridge.sandbox.tls import ServerTls
from keycloak_duo_bridge.sandbox.waiting import wait_ready

SERVED_BY = "X-Kdb-Served-By"
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class Upstream:
    """One server behind the balancer; ``ca`` set means TLS to it, verified against ``ca``."""

    name: str
    port: int
    host: str = "127.0.0.1"
    ca: Path | None = None
    verify_host: str = "localhost"
    check_port: int | None = None  # health checks on another port (Keycloak's management)


@dataclass(frozen=True)
class BalancerConfig:
    """A frontend on ``port`` (TLS with ``tls``, plain HTTP without) and its upstreams."""

    name: str
    port: int
    upstreams: tuple[Upstream, ...]
    check_path: str
    tls: ServerTls | None = None
    host: str = "127.0.0.1"
    pin_header: str | None = None

    @property
    def url(self) -> str:
        if self.tls is None:
            return f"http://{self.host}:{self.port}"
        return f"https://{self.tls.hostname}:{self.port}"


def haproxy_binary() -> Path:
    """Debian's ``haproxy``, or a clear error naming the package to install."""
    found = shutil.which("haproxy", path="/usr/sbin:/usr/bin:/sbin:/bin")
    if found is None:
        raise SandboxError(
            "haproxy is not installed; install Debian's `haproxy` package "
            "(`make test` does, with apt-get)"
        )
    return Path(found)


FALLBACK = "-fallback"


def _server_line(upstream: Upstream, *, fallback: bool = False) -> str:
    name = upstream.name + (FALLBACK if fallback else "")
    words = [f"server {name} {upstream.host}:{upstream.port}"]
    if upstream.ca is not None:
        words.append(f"ssl verify required ca-file {upstream.ca} verifyhost {upstream.verify_host}")
        words.append(f"sni str({upstream.verify_host})")
    if fallback:  # used only while every checked server is down: unchecked, a dead one is
        words.append("backup")  # refused and the request retried on another
        return " ".join(words)
    words.append("check inter 500ms fall 1 rise 2")
    if upstream.ca is not None:
        words.append("check-ssl")
    if upstream.check_port is not None:
        words.append(f"port {upstream.check_port}")
    return " ".join(words)


def config_text(config: BalancerConfig) -> str:
    """The ``haproxy.cfg`` for ``config``."""
    bind = f"bind {config.host}:{config.port}"
    if config.tls is not None:
        bind += f" ssl crt {config.tls.combined}"
    lines = [
        "global",
        "    maxconn 4000",
        "defaults",
        "    mode http",
        "    timeout connect 2s",
        "    timeout client 60s",
        "    timeout server 60s",
        "    timeout check 2s",
        "    retries 3",
        "    option redispatch 1",
        "    retry-on conn-failure empty-response",
        f"frontend {config.name}",
        f"    {bind}",
        "    option forwardfor",
        f"    http-request set-header X-Forwarded-Proto {'https' if config.tls else 'http'}",
        f"    default_backend {config.name}-servers",
        f"backend {config.name}-servers",
        "    balance roundrobin",
        "    option allbackups",
        f"    option httpchk GET {config.check_path}",
        f"    http-response set-header {SERVED_BY} %s",
    ]
    if config.pin_header is not None:
        lines += [
            f"    use-server {u.name} if {{ req.hdr({config.pin_header}) -m str {u.name} }}"
            for u in config.upstreams
        ]
    lines += [f"    {_server_line(u)}" for u in config.upstreams]
    lines += [f"    {_server_line(u, fallback=True)}" for u in config.upstreams]
    return "\n".join(lines) + "\n"


def check_command(config_file: Path) -> list[str]:
    """``haproxy -c``: validate a config file without starting."""
    return [str(haproxy_binary()), "-c", "-q", "-f", str(config_file)]


def run_command(config_file: Path) -> list[str]:
    """``haproxy`` in the foreground on ``config_file``."""
    return [str(haproxy_binary()), "-db", "-f", str(config_file)]


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


class Balancer:
    """One HAProxy process for ``config``, its files in ``directory``."""

    def __init__(self, config: BalancerConfig, directory: Path) -> None:
        self.config = config
        directory.mkdir(parents=True, exist_ok=True)
        self.config_file = directory / f"{config.name}.cfg"
        self.log_file = directory / f"{config.name}.log"
        self._child: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"Balancer({self.config.name!r}, url={self.config.url!r})"

    @property
    def url(self) -> str:
        return self.config.url

    def start(self) -> float:
        """Write and validate the config, start HAProxy; the seconds until it listens."""
        self.config_file.write_text(config_text(self.config), encoding="utf-8")
        checked = subprocess.run(check_command(self.config_file), capture_output=True, check=False)
        if checked.returncode != 0:
            raise SandboxError(
                f"haproxy refused {self.config_file}: {checked.stderr.decode(errors='replace')}"
            )
        with self.log_file.open("wb") as log:
            self._child = subprocess.Popen(
                run_command(self.config_file),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        child = self._child
        try:
            return wait_ready(
                child,
                lambda: _accepts(self.config.host, self.config.port),
                what=f"haproxy {self.config.name}",
                log=self.log_file,
                timeout=START_TIMEOUT,
            )
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the HAProxy this object started."""
        child, self._child = self._child, None
        if child is not None:
            process.terminate(child.pid, str(self.config_file))
            child.wait()
