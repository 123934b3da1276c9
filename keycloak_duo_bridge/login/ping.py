"""CIBA ping mode: the client's notification endpoint, a loopback listener while a login waits.

In ping mode Keycloak POSTs ``{"auth_req_id": ...}`` to the client's registered notification
endpoint, authorised by the ``client_notification_token`` the client sent with its request,
once the authentication channel answered; the client then fetches the tokens. The listener
answers ``204`` to a ping bearing this login's token and ``401`` to anything else; a ping
only wakes the client early, the token endpoint still decides.
"""

from __future__ import annotations

import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Final, Self

from keycloak_duo_bridge.login.protocol import judge_ping

__all__ = ["PingListener"]

MAX_BODY: Final = 4096


class PingListener:
    """Listens on ``host:port`` for Keycloak's ping of one login (use it as a context)."""

    def __init__(self, host: str, port: int) -> None:
        self.token = secrets.token_urlsafe(32)
        self._pinged = threading.Event()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(max(length, 0), MAX_BODY))
                taken = judge_ping(self.headers.get("Authorization"), body, token=listener.token)
                self.send_response(204 if taken else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if taken:
                    listener._pinged.set()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                del format, args  # quiet: the command's own output is the user's

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def wait(self, seconds: float) -> bool:
        """True once pinged (then re-armed); False after ``seconds`` without a ping."""
        pinged = self._pinged.wait(seconds)
        self._pinged.clear()
        return pinged

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
