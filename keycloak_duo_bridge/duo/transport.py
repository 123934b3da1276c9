"""A lean HTTP/1.1 keep-alive transport for the bridge's calls to Duo.

The bridge makes one token call per login. Through httpx's default transport each call
cost about a third of the bridge's CPU per step-up (py-spy on ``make bench``): its pool
probes every idle connection with a syscall on each request, and anyio does TLS in Python.
This transport keeps idle connections per host, speaks HTTP/1.1 over asyncio streams (TLS
by the event loop: uvloop's, in C), parses answers with httptools, and raises httpx's own
exceptions, so :class:`~keycloak_duo_bridge.duo.client.DuoClient` and its tests see no
difference. Bodies are small (forms and JSON), so they are read whole.

Only bytes that answer this request are its answer: a connection with bytes
waiting while idle (an unasked-for 408, say) is closed, not reused; bytes after the answer
close the connection too; a 408 on a reused connection is the server giving up on it, so
the request goes once more on a new one; 1xx answers are skipped; a body without a length
ends where the server closes the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Final

import httptools
import httpx2

USER_AGENT: Final = b"keycloak-duo-bridge"
MAX_RESPONSE: Final = 1 << 20  # Duo's answers are a few kilobytes


class _Stale(Exception):  # noqa: N818 - internal signal, never escapes
    """A reused connection was closed by the server before it answered: retry on a new one."""


_REQUEST_TIMEOUT: Final = 408
_SWITCHING: Final = 101
_NO_BODY: Final = (204, 304)


@dataclass
class _Answer:
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    complete: bool = False
    keep_alive: bool = False
    headers_done: bool = False
    informational: bool = False  # a 1xx answer: skipped, the real one follows
    stray: bool = False  # bytes after the answer: the connection is not reused
    parser: httptools.HttpResponseParser | None = None

    # httptools' callbacks
    def on_message_begin(self) -> None:
        if self.complete:
            self.stray = True

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.complete:
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.complete or self.parser is None:
            return
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != _SWITCHING:  # noqa: PLR2004 - the 1xx range
            self.informational = True
            return
        self.status = status
        self.headers_done = True
        # llhttp forgets the message's flags once it is complete: ask now
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        if self.complete:
            return
        self.body += body
        if len(self.body) > MAX_RESPONSE:
            raise OverflowError  # httptools stops parsing: _receive says why

    def on_message_complete(self) -> None:
        if self.informational:
            self.informational = False
            self.headers.clear()
        elif not self.complete:
            self.complete = True

    def finished(self) -> bool:
        return self.complete

    @property
    def delimited_by_close(self) -> bool:
        """Headers seen, no length given: the body ends where the connection does."""
        names = {name.lower() for name, _ in self.headers}
        return (
            self.headers_done
            and b"content-length" not in names
            and b"transfer-encoding" not in names
            and self.status not in _NO_BODY
        )


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def usable(self, now: float, expiry: float) -> bool:
        """Open, fresh, and silent while idle: bytes that arrived unasked (a server's 408
        before it hangs up) are no answer to the next request."""
        # asyncio's StreamReader has no public way to ask whether bytes are waiting
        waiting = bool(self.reader._buffer)  # type: ignore[attr-defined]  # noqa: SLF001
        return (
            not waiting
            and not self.reader.at_eof()
            and not self.writer.is_closing()
            and now - self.idle_since < expiry
        )

    def close(self) -> None:
        self.writer.close()


class StreamTransport(httpx2.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive over asyncio streams; httpx's timeouts and exceptions."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        *,
        max_idle_per_host: int = 20,
        keepalive_expiry: float = 60.0,
    ) -> None:
        self._ssl = ssl_context
        self._max_idle = max_idle_per_host
        self._expiry = keepalive_expiry
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}

    async def aclose(self) -> None:
        """Close the idle connections, and wait (briefly) until their sockets are shut."""
        closing = [connection for idle in self._idle.values() for connection in idle]
        self._idle.clear()
        for connection in closing:
            connection.close()
        for connection in closing:
            with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
                async with asyncio.timeout(1.0):
                    await connection.writer.wait_closed()

    def _take(self, key: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.usable(now, self._expiry):
                return connection
            connection.close()
        return None

    def _give_back(self, key: tuple[str, str, int], connection: _Connection) -> None:
        idle = self._idle.setdefault(key, deque())
        if len(idle) >= self._max_idle:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle.append(connection)

    async def _connect(
        self, request: httpx2.Request, key: tuple[str, str, int], within: float | None
    ) -> _Connection:
        scheme, host, port = key
        tls = self._ssl if scheme == "https" else None
        try:
            async with asyncio.timeout(within):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=tls, server_hostname=host if tls else None
                )
        except TimeoutError:
            raise httpx2.ConnectTimeout("connecting to Duo timed out", request=request) from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx2.ConnectError(f"cannot connect: {exc}", request=request) from None
        return _Connection(reader, writer)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        scheme = url.scheme
        port = url.port or (443 if scheme == "https" else 80)
        key = (scheme, url.host, port)
        timeouts = request.extensions.get("timeout", {})
        head = _head(request, await request.aread())
        connection = self._take(key)
        if connection is not None:
            try:
                return await self._exchange(request, key, connection, head, timeouts, reused=True)
            except _Stale:
                pass  # the server gave up on the idle connection: once more, on a new one
        connection = await self._connect(request, key, timeouts.get("connect"))
        try:
            return await self._exchange(request, key, connection, head, timeouts, reused=False)
        except _Stale:
            raise httpx2.RemoteProtocolError(
                "Duo closed the connection without answering", request=request
            ) from None

    async def _exchange(
        self,
        request: httpx2.Request,
        key: tuple[str, str, int],
        connection: _Connection,
        head: bytes,
        timeouts: dict[str, float | None],
        *,
        reused: bool,
    ) -> httpx2.Response:
        answer = _Answer()
        parser = answer.parser = httptools.HttpResponseParser(answer)
        try:
            await _send(request, connection, head, timeouts.get("write"))
            await _receive(request, connection, parser, answer, timeouts.get("read"))
        except BaseException:
            connection.close()
            raise
        if answer.keep_alive and not answer.stray:
            self._give_back(key, connection)
        else:
            connection.close()
        if reused and answer.status == _REQUEST_TIMEOUT:
            raise _Stale  # the server timed the idle connection out, not this request
        return httpx2.Response(
            answer.status,
            headers=answer.headers,
            content=bytes(answer.body),
            request=request,
        )


async def _send(
    request: httpx2.Request, connection: _Connection, head: bytes, within: float | None
) -> None:
    # A request of a few hundred bytes fits any socket buffer, so drain() returns at once
    # and a dead peer shows at the read; these two guards are not reached in tests.
    try:
        connection.writer.write(head)
        async with asyncio.timeout(within):
            await connection.writer.drain()
    except TimeoutError:  # pragma: no cover - see above
        raise httpx2.WriteTimeout("sending to Duo timed out", request=request) from None
    except (ConnectionError, ssl.SSLError):  # pragma: no cover - see above
        raise _Stale from None  # nothing was answered: safe to send again


async def _receive(
    request: httpx2.Request,
    connection: _Connection,
    parser: httptools.HttpResponseParser,
    answer: _Answer,
    within: float | None,
) -> None:
    """Read until the answer is complete; _Stale if the server closed before any byte."""
    received = False
    while not answer.complete:
        try:
            async with asyncio.timeout(within):
                data = await connection.reader.read(65536)
        except TimeoutError:
            raise httpx2.ReadTimeout("Duo did not answer in time", request=request) from None
        except (ConnectionError, ssl.SSLError) as exc:
            data = b""
            if received:
                raise httpx2.ReadError(
                    f"the connection to Duo broke: {exc}", request=request
                ) from None
        if not data:
            if answer.delimited_by_close:
                answer.complete, answer.keep_alive = True, False
                return
            _closed(request, received=received)
        received = True
        try:
            parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if answer.finished():  # bytes after a "Connection: close" answer: not ours
                answer.stray = True
                return
            problem = "too large" if len(answer.body) > MAX_RESPONSE else f"not HTTP: {exc}"
            raise httpx2.RemoteProtocolError(
                f"Duo's answer is {problem}", request=request
            ) from None


def _closed(request: httpx2.Request, *, received: bool) -> None:
    if not received:
        raise _Stale
    raise httpx2.RemoteProtocolError("Duo closed the connection mid-answer", request=request)


def _head(request: httpx2.Request, body: bytes) -> bytes:
    """The request line, headers and body; no compression asked for (bodies are tiny)."""
    url = request.url
    target = url.raw_path
    lines = [
        request.method.encode() + b" " + target + b" HTTP/1.1",
        b"Host: " + url.netloc,
        b"User-Agent: " + USER_AGENT,
        b"Accept: application/json",
    ]
    for name, value in request.headers.raw:
        # Date (and X-Duo-*) are covered by the Auth API's request signature
        if name.lower() in {b"content-type", b"authorization", b"date"} or name.lower().startswith(
            b"x-duo-"
        ):
            lines.append(name + b": " + value)
    lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
