"""Run an ASGI app on uvicorn in a background thread (tests, demos, the sandbox)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import uvicorn

from keycloak_duo_bridge.errors import BridgeError
from keycloak_duo_bridge.settings import Settings


class Server(uvicorn.Server):
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


def bind(host: str, port: int, error: type[BridgeError] = BridgeError) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0 picks a free one); ``error`` if not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise error(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class StopOnExit:
    """A context manager whose exit calls ``stop()``."""

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass
class ServerThread(StopOnExit):
    """A uvicorn server serving in a daemon thread; a context manager that stops it."""

    port: int
    _server: Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def load(
    config: uvicorn.Config, sock: socket.socket, *, name: str, error: type[BridgeError]
) -> None:
    """Load ``config`` now, so a bad certificate fails here (closing ``sock``), not later."""
    try:
        config.load()
    except OSError as exc:  # ssl.SSLError included
        sock.close()
        raise error(f"cannot load the {name}'s TLS certificate: {exc}") from exc


def start_in_thread(
    config: uvicorn.Config,
    sock: socket.socket,
    *,
    name: str,
    timeout: float = 10.0,
    error: type[BridgeError] = BridgeError,
) -> ServerThread:
    """Serve ``config`` on the bound ``sock`` in a daemon thread; return once it listens.

    The configuration is loaded here, so a bad certificate fails in the caller.
    """
    load(config, sock, name=name, error=error)
    server = Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        # Defensive: configuration errors were raised by config.load() already, so only a
        # wedged event loop could get here.
        if not thread.is_alive() or time.monotonic() > deadline:  # pragma: no cover
            server.should_exit = True
            thread.join(timeout=timeout)
            sock.close()
            raise error(f"the {name} did not start")
        time.sleep(0.02)
    return ServerThread(sock.getsockname()[1], server, thread)


def bridge_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for the bridge: its address, TLS, and whom it trusts for
    ``X-Forwarded-*``. Only the addresses in ``KDB_FORWARDED_ALLOW_IPS`` are trusted; unset,
    none are, so a client cannot claim another address or scheme."""
    trusted = [ip.strip() for ip in (settings.forwarded_allow_ips or "").split(",") if ip.strip()]
    options: dict[str, Any] = {
        "host": settings.bridge_host,
        "port": settings.bridge_port,
        "log_config": None,
        "access_log": False,  # query strings carry tokens; the bridge logs its own events
        "proxy_headers": False,
        "server_header": False,
    }
    if trusted:
        options.update(proxy_headers=True, forwarded_allow_ips=trusted)
    if settings.bridge_tls_cert_file is not None:
        options["ssl_certfile"] = str(settings.bridge_tls_cert_file)
        options["ssl_keyfile"] = str(settings.bridge_tls_key_file)
    return options
