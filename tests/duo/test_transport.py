"""The lean keep-alive transport against real sockets: reuse, staleness, faults, timeouts."""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import pytest

from keycloak_duo_bridge.duo.transport import MAX_RESPONSE, StreamTransport
from tests.aio import run

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
Handler = Callable[[int, int, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]
"""``(connection number, request number on it, reader, writer) -> keep the connection``"""


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One request: head and Content-Length body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    return head + await reader.readexactly(length)


def serve(
    handler: Handler, calls: Callable[[httpx2.AsyncClient], Awaitable[Any]], **kw: Any
) -> Any:
    """Run ``calls`` against a loopback server answering with ``handler``; its result."""

    async def main() -> Any:
        connections = 0

        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            number, turn = connections, 0
            try:
                while True:
                    await read_request(reader)
                    turn += 1
                    if not await handler(number, turn, reader, writer):
                        break
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(accept, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport = StreamTransport(ssl.create_default_context(), **kw)
        async with httpx2.AsyncClient(
            transport=transport, base_url=f"http://127.0.0.1:{port}", timeout=2.0
        ) as client:
            try:
                result = await calls(client)
            finally:
                server.close()
        return result, connections

    return run(main())


async def answer(number: int, turn: int, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    w.write(OK)
    await w.drain()
    return True


async def twice(client: httpx2.AsyncClient) -> list[int]:
    return [(await client.post("/t", data={"a": "1"})).status_code for _ in range(2)]


def test_a_connection_is_kept_and_reused() -> None:
    """Two calls in a row share one connection; the answer is httpx's Response."""
    (statuses, connections) = serve(answer, twice)
    assert (statuses, connections) == ([200, 200], 1)


def test_an_answer_with_connection_close_is_not_reused() -> None:
    """``Connection: close`` sends the next call to a new connection."""

    async def closing(number: int, turn: int, r: Any, w: asyncio.StreamWriter) -> bool:
        w.write(OK.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        await w.drain()
        return False

    assert serve(closing, twice) == ([200, 200], 2)


def test_a_connection_the_server_dropped_while_idle_is_replaced() -> None:
    """A reused connection closed by the server before answering: the call goes to a new one."""

    async def one_per_connection(number: int, turn: int, r: Any, w: asyncio.StreamWriter) -> bool:
        if turn > 1:
            return False  # close without answering, as an idle timeout would
        w.write(OK)
        await w.drain()
        return True

    assert serve(one_per_connection, twice) == ([200, 200], 2)


def test_a_reset_on_a_reused_connection_is_replaced_too() -> None:
    """A reset before any answer byte on a reused connection is retried on a new one."""

    async def reset_second(number: int, turn: int, r: Any, w: asyncio.StreamWriter) -> bool:
        if turn > 1:
            sock = w.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        w.write(OK)
        await w.drain()
        return True

    assert serve(reset_second, twice) == ([200, 200], 2)


@pytest.mark.parametrize(
    ("reply", "error", "message"),
    [
        (b"", httpx2.RemoteProtocolError, "without answering"),
        (OK[:40], httpx2.RemoteProtocolError, "mid-answer"),
        (b"SMTP ready\r\n\r\n", httpx2.RemoteProtocolError, "not HTTP"),
        (
            OK.replace(b"Content-Length: 2", f"Content-Length: {MAX_RESPONSE + 10}".encode())
            + b"x" * (MAX_RESPONSE + 8),
            httpx2.RemoteProtocolError,
            "too large",
        ),
    ],
)
def test_broken_answers_are_httpx_errors(
    reply: bytes, error: type[Exception], message: str
) -> None:
    """No answer, half an answer, not HTTP, too large: httpx's protocol error."""

    async def broken(number: int, turn: int, r: Any, w: asyncio.StreamWriter) -> bool:
        w.write(reply)
        await w.drain()
        return False

    async def call(client: httpx2.AsyncClient) -> None:
        await client.post("/t", data={"a": "1"})

    with pytest.raises(error, match=message):
        serve(broken, call)


def test_a_reset_mid_answer_is_a_read_error() -> None:
    """A reset after part of the answer is a read error, not a retry."""

    async def reset(number: int, turn: int, r: Any, w: asyncio.StreamWriter) -> bool:
        w.write(OK[:40])
        await w.drain()
        await asyncio.sleep(0.05)
        w.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        return False

    async def call(client: httpx2.AsyncClient) -> None:
        await client.post("/t")

    with pytest.raises(httpx2.ReadError, match="broke"):
        serve(reset, call)


def test_a_silent_server_is_a_read_timeout() -> None:
    """No answer within the read timeout: httpx's ReadTimeout."""

    async def silent(number: int, turn: int, r: asyncio.StreamReader, w: Any) -> bool:
        await r.read()
        return False

    async def call(client: httpx2.AsyncClient) -> None:
        await client.post("/t", timeout=httpx2.Timeout(2.0, read=0.2))

    with pytest.raises(httpx2.ReadTimeout):
        serve(silent, call)


def test_connect_failures_are_httpx_errors() -> None:
    """A refused connection and a connect timeout are httpx's ConnectError and ConnectTimeout."""
    transport = StreamTransport(ssl.create_default_context())

    async def main(limits: httpx2.Timeout, url: str) -> None:
        async with httpx2.AsyncClient(transport=transport, timeout=limits) as client:
            await client.post(url)

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(httpx2.ConnectError):
        run(main(httpx2.Timeout(2.0), f"http://127.0.0.1:{port}/t"))
    with pytest.raises(httpx2.ConnectTimeout):
        run(main(httpx2.Timeout(2.0, connect=0.0), f"https://127.0.0.1:{port}/t"))


def test_idle_connections_are_bounded_and_expire() -> None:
    """Beyond the idle bound a connection is closed; an expired idle one is not reused."""

    async def parallel_then_one(client: httpx2.AsyncClient) -> None:
        await asyncio.gather(*(client.post("/t") for _ in range(3)))
        await client.post("/t")

    (_, bounded) = serve(answer, parallel_then_one, max_idle_per_host=1)
    assert bounded == 3
    (_, expired) = serve(answer, twice, keepalive_expiry=0.0)
    assert expired == 2


STRAY_408 = b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n"


def test_item12_bytes_after_the_answer_close_the_connection() -> None:
    """A 408 that arrives with the answer is no answer to the next call: a new connection."""

    async def answer_and_stray(number: int, turn: int, r: Any, w: asyncio.StreamWriter) -> bool:
        w.write(
            OK + STRAY_408.replace(b"Content-Length: 0\r\n\r\n", b"Content-Length: 3\r\n\r\nbye")
        )
        await w.drain()
        return True

    assert serve(answer_and_stray, twice) == ([200, 200], 2)


def test_item12_bytes_after_a_connection_close_answer_are_ignored() -> None:
    """Data after a ``Connection: close`` answer (a parser error) leaves the answer whole."""

    async def close_and_stray(number: int, turn: int, r: Any, w: asyncio.StreamWriter) -> bool:
        w.write(OK.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n") + STRAY_408)
        await w.drain()
        return False

    assert serve(close_and_stray, twice) == ([200, 200], 2)


def test_item12_a_408_on_a_reused_connection_is_retried_on_a_new_one() -> None:
    """The server timing the idle connection out just as it is reused: sent again, answered."""

    async def time_out_second(number: int, turn: int, r: Any, w: asyncio.StreamWriter) -> bool:
        w.write(STRAY_408 if turn > 1 else OK)
        await w.drain()
        return turn == 1

    assert serve(time_out_second, twice) == ([200, 200], 2)


def test_item12_a_408_on_a_new_connection_is_the_answer() -> None:
    """On a fresh connection a 408 is the server's answer to this request, given as such."""

    async def always_408(number: int, turn: int, r: Any, w: asyncio.StreamWriter) -> bool:
        w.write(STRAY_408)
        await w.drain()
        return False

    async def once(client: httpx2.AsyncClient) -> int:
        return (await client.post("/t", data={"a": "1"})).status_code

    assert serve(always_408, once) == (408, 1)


@pytest.mark.parametrize(
    ("reply", "body"),
    [
        (b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK, b"{}"),
        (b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"a": 1}', b'{"a": 1}'),
        (b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", b""),
    ],
    ids=["1xx-skipped", "close-delimited", "no-content"],
)
def test_item12_informational_and_close_delimited_answers(reply: bytes, body: bytes) -> None:
    """A 1xx before the answer is skipped; a body without a length ends at the close."""

    async def send(number: int, turn: int, r: Any, w: asyncio.StreamWriter) -> bool:
        w.write(reply)
        await w.drain()
        return False

    async def once(client: httpx2.AsyncClient) -> tuple[bytes, list[str]]:
        response = await client.post("/t", data={"a": "1"})
        return response.content, list(response.headers)

    (content, headers), _ = serve(send, once)
    assert content == body
    assert "link" not in headers  # the 1xx's headers are not the answer's
