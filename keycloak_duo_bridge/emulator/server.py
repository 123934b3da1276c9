"""Run the emulator: in a background thread (tests, demos, CI) or in the foreground (CLI)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import uvicorn

from keycloak_duo_bridge.emulator.app import create_app
from keycloak_duo_bridge.emulator.certs import CertificatePaths, ensure_certificates
from keycloak_duo_bridge.emulator.client import EmulatorControl
from keycloak_duo_bridge.emulator.errors import EmulatorError
from keycloak_duo_bridge.emulator.model import Integration
from keycloak_duo_bridge.emulator.state import EmulatorState

__all__ = ["RunningEmulator", "api_host_for", "bind", "serve", "start_emulator"]

_WILDCARDS = {"", "0.0.0.0", "::"}  # noqa: S104 - names to recognise, not to bind


def api_host_for(host: str, port: int) -> str:
    """The ``api_host`` clients should use: ``host:port`` (``localhost`` for a wildcard)."""
    name = "localhost" if host in _WILDCARDS else host
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"
    return f"{name}:{port}"


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0 picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise EmulatorError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """uvicorn, plus: connections still open after the graceful period are aborted.

    Clients such as ``requests`` keep a finished response's socket open until garbage
    collection, and a TLS close then waits for the peer's ``close_notify``. Without the
    abort, the event loop would close under those transports and leak them.
    """

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        for connection in list(self.server_state.connections):
            connection.transport.abort()
        await asyncio.sleep(0)  # let the aborts run before the loop closes


def _loaded_config(
    state: EmulatorState, certs: CertificatePaths, sock: socket.socket
) -> uvicorn.Config:
    """uvicorn's configuration, loaded here so a bad certificate fails in the caller."""
    config = uvicorn.Config(
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
    try:
        config.load()
    except OSError as exc:  # ssl.SSLError included
        sock.close()
        raise EmulatorError(f"cannot load the emulator's TLS certificate: {exc}") from exc
    return config


@dataclass
class RunningEmulator:
    """An emulator serving in a background thread; a context manager that stops it."""

    base_url: str
    api_host: str
    ca_path: Path
    state: EmulatorState
    control: EmulatorControl
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.control.close()
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


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
    server = _Server(_loaded_config(state, certs, sock))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="duo-emulator", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        # Defensive: configuration errors were raised by _loaded_config already, so only a
        # wedged event loop could get here.
        if not thread.is_alive() or time.monotonic() > deadline:  # pragma: no cover
            server.should_exit = True
            thread.join(timeout=startup_timeout)
            sock.close()
            raise EmulatorError("the Duo emulator did not start")
        time.sleep(0.02)
    api_host = api_host_for(host, port)
    base_url = f"https://{api_host}"
    control = EmulatorControl(base_url, certs.ca, api_host)
    return RunningEmulator(base_url, api_host, certs.ca, state, control, server, thread)


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
    config = _loaded_config(state, certs, sock)
    announce(certs.ca, f"https://{api_host_for(host, sock.getsockname()[1])}")
    try:
        _Server(config).run(sockets=[sock])
    finally:
        sock.close()
