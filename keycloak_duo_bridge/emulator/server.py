"""Run the emulator: in a background thread (tests, demos, CI) or in the foreground (CLI)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from keycloak_duo_bridge import serving
from keycloak_duo_bridge.emulator.app import create_app
from keycloak_duo_bridge.emulator.certs import CertificatePaths, ensure_certificates, spki_pin
from keycloak_duo_bridge.emulator.client import EmulatorControl
from keycloak_duo_bridge.emulator.errors import EmulatorError
from keycloak_duo_bridge.emulator.model import Integration
from keycloak_duo_bridge.emulator.state import EmulatorState

__all__ = ["HTTPS_PORT", "RunningEmulator", "api_host_for", "bind", "serve", "start_emulator"]

_WILDCARDS = {"", "0.0.0.0", "::"}  # noqa: S104 - names to recognise, not to bind


HTTPS_PORT = 443


def api_host_for(host: str, port: int) -> str:
    """The ``api_host`` clients should use: ``host:port`` (``localhost`` for a wildcard).

    On port 443 it is the bare host, as Duo's own API hosts are: Duo's Java SDK pins
    certificates per host name and refuses a host with a port.
    """
    name = "localhost" if host in _WILDCARDS else host
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"
    return name if port == HTTPS_PORT else f"{name}:{port}"


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0 picks a free one)."""
    return serving.bind(host, port, EmulatorError)


def _config(state: EmulatorState, certs: CertificatePaths) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(state),
        ssl_certfile=str(certs.cert),
        ssl_keyfile=str(certs.key),
        lifespan="off",
        log_config=None,
        log_level="warning",
        access_log=False,  # query strings carry codes and assertions
        proxy_headers=False,  # scope["client"] must be the real TCP peer
        timeout_graceful_shutdown=1,
    )


@dataclass
class RunningEmulator(serving.StopOnExit):
    """An emulator serving in a background thread; a context manager that stops it."""

    base_url: str
    api_host: str
    ca_path: Path
    state: EmulatorState
    control: EmulatorControl
    _server: serving.ServerThread = field(repr=False)

    @property
    def ca_pin(self) -> str:
        """The CA's public-key pin, ``sha256/<base64>``, for certificate-pinning clients."""
        return spki_pin(self.ca_path)

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.control.close()
        self._server.stop()


def start_emulator(
    data_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    integrations: Iterable[Integration] = (),
    state: EmulatorState | None = None,
    startup_timeout: float = 10.0,
) -> RunningEmulator:
    """Start the emulator on ``host:port`` (a free port by default) in a daemon thread."""
    state = state if state is not None else EmulatorState()
    for integration in integrations:
        state.add_integration(integration)
    certs = ensure_certificates(data_dir, host)
    sock = bind(host, port)
    port = sock.getsockname()[1]
    server = serving.start_in_thread(
        _config(state, certs),
        sock,
        name="Duo emulator",
        timeout=startup_timeout,
        error=EmulatorError,
    )
    api_host = api_host_for(host, port)
    base_url = f"https://{api_host}"
    control = EmulatorControl(base_url, certs.ca, api_host)
    return RunningEmulator(base_url, api_host, certs.ca, state, control, server)


def serve(
    data_dir: Path,
    *,
    host: str,
    port: int,
    integrations: Iterable[Integration],
    announce: Callable[[Path, str], None],
) -> None:
    """Serve in the foreground until interrupted (Ctrl-C or SIGTERM).

    ``announce(ca_path, base_url)`` is called once the port is bound, before serving.
    """
    state = EmulatorState()
    for integration in integrations:
        state.add_integration(integration)
    certs = ensure_certificates(data_dir, host)
    sock = bind(host, port)
    config = _config(state, certs)
    serving.load(config, sock, name="Duo emulator", error=EmulatorError)
    announce(certs.ca, f"https://{api_host_for(host, sock.getsockname()[1])}")
    try:
        serving.Server(config).run(sockets=[sock])
    finally:
        sock.close()
