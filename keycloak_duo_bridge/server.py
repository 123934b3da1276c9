"""Run the bridge in a background thread, on a port bound before its URL is known."""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn

from keycloak_duo_bridge.app import create_app
from keycloak_duo_bridge.serving import ServerThread, bind, start_in_thread
from keycloak_duo_bridge.settings import Settings


def start_bridge(
    settings_for: Callable[[str], Settings], *, host: str = "127.0.0.1", port: int = 0
) -> tuple[ServerThread, Settings]:
    """Bind, build the settings for the resulting URL, and serve the bridge there."""
    sock: socket.socket = bind(host, port)
    url = f"http://{host}:{sock.getsockname()[1]}"
    settings = settings_for(url)
    config = uvicorn.Config(
        create_app(settings),
        lifespan="on",
        log_config=None,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=1,
    )
    return start_in_thread(config, sock, name="bridge"), settings
