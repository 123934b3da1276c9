"""The bridge's Duo client against the emulator over real TLS."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from keycloak_duo_bridge.duo import DuoClient, DuoCredentials
from keycloak_duo_bridge.duo.client import DEFAULT_TIMEOUT, tls_context
from keycloak_duo_bridge.duo.health import check_credentials
from keycloak_duo_bridge.emulator import IntegrationCredentials, RunningEmulator
from keycloak_duo_bridge.emulator.certs import ensure_certificates
from keycloak_duo_bridge.errors import DuoConfigError, DuoProtocolError, DuoUnavailableError
from tests.aio import run as run_async

REDIRECT = "https://bridge.example/step-up/callback"
T = TypeVar("T")


def run(work: Callable[[DuoClient], Awaitable[T]], ca_file: Path | None = None) -> T:
    """Run ``work`` with a fresh DuoClient on its own event loop, in its own thread.

    A thread of its own keeps this loop apart from the one Playwright's sync API keeps
    in the main thread for the browser tests.
    """

    async def main() -> T:
        client = DuoClient(ca_file=ca_file, allow_any_host=True)
        try:
            return await work(client)
        finally:
            await client.aclose()

    return run_async(main())


@pytest.fixture
def creds(duo_integration: IntegrationCredentials) -> DuoCredentials:
    """Our credentials object for a fresh emulator integration."""
    return DuoCredentials(
        ikey=duo_integration.client_id,
        skey=duo_integration.client_secret,
        api_host=duo_integration.api_host,
    )


def walk_prompt(duo_emulator: RunningEmulator, url: str) -> dict[str, list[str]]:
    """Follow Duo's authorize redirect (headless user behaviour) and return the callback query."""
    with httpx2.Client(verify=tls_context(duo_emulator.ca_path)) as browser:
        response = browser.get(url)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return parse_qs(urlsplit(location).query)


def login(
    duo_emulator: RunningEmulator, creds: DuoCredentials, username: str, *, exchanges: int = 1
) -> list[dict[str, Any] | Exception]:
    """Health check, prompt (headless), then exchange the code ``exchanges`` times."""

    async def work(client: DuoClient) -> list[dict[str, Any] | Exception]:
        await client.health_check(creds)
        url = client.authorize_url(
            creds, redirect_uri=REDIRECT, state="s" * 32, username=username, nonce="n" * 32
        )
        query = await asyncio.to_thread(walk_prompt, duo_emulator, url)
        assert query["state"] == ["s" * 32]
        results: list[dict[str, Any] | Exception] = []
        for _ in range(exchanges):
            try:
                results.append(
                    await client.exchange(
                        creds,
                        code=query["duo_code"][0],
                        redirect_uri=REDIRECT,
                        username=username,
                        nonce="n" * 32,
                    )
                )
            except DuoProtocolError as exc:
                results.append(exc)
        return results

    return run(work, duo_emulator.ca_path)


def test_full_flow_returns_verified_claims(
    creds: DuoCredentials, duo_emulator: RunningEmulator
) -> None:
    """Health, authorize, exchange: the verified claims say allow, for our user."""
    duo_emulator.control.set_user("alice", behavior="allow", enrolled=True)
    [claims] = login(duo_emulator, creds, "alice")
    assert isinstance(claims, dict)
    assert claims["auth_result"]["status"] == "allow"
    assert claims["preferred_username"] == "alice"


def test_deny_is_returned_not_hidden(creds: DuoCredentials, duo_emulator: RunningEmulator) -> None:
    """A denied login's token is verified and returned; the caller must check auth_result."""
    duo_emulator.control.set_user("mallory", behavior="deny", enrolled=True)
    [claims] = login(duo_emulator, creds, "mallory")
    assert isinstance(claims, dict)
    assert claims["auth_result"]["status"] == "deny"


def test_reused_code_is_a_protocol_error(
    creds: DuoCredentials, duo_emulator: RunningEmulator
) -> None:
    """A code used twice is invalid_grant: a protocol error, never an outage."""
    duo_emulator.control.set_user("bob", behavior="allow", enrolled=True)
    first, second = login(duo_emulator, creds, "bob", exchanges=2)
    assert isinstance(first, dict)
    assert isinstance(second, DuoProtocolError)
    assert "refused the code: invalid_grant" in str(second)


def test_wrong_secret_is_a_config_error(
    creds: DuoCredentials, duo_emulator: RunningEmulator
) -> None:
    """A wrong skey is invalid_client: a configuration fault that never fails open."""
    wrong = DuoCredentials(ikey=creds.ikey, skey="x" * 40, api_host=creds.api_host)
    with pytest.raises(DuoConfigError, match="invalid_client"):
        run(lambda client: client.health_check(wrong), duo_emulator.ca_path)


def test_health_outage_is_unavailable(creds: DuoCredentials, duo_emulator: RunningEmulator) -> None:
    """A 500 from the health check is an outage, so the realm's fail mode applies."""
    duo_emulator.control.set_faults(health="error_500")
    with pytest.raises(DuoUnavailableError, match="HTTP 500"):
        run(lambda client: client.health_check(creds), duo_emulator.ca_path)


def test_unreachable_duo_is_unavailable(creds: DuoCredentials) -> None:
    """A refused connection is an outage, named without secrets."""
    dead = DuoCredentials(ikey=creds.ikey, skey=creds.skey, api_host="127.0.0.1:9")
    with pytest.raises(DuoUnavailableError, match="unreachable: ConnectError") as caught:
        run(lambda client: client.health_check(dead))
    assert creds.skey not in str(caught.value)


def test_one_connection_serves_many_calls(
    creds: DuoCredentials, duo_emulator: RunningEmulator
) -> None:
    """Repeated calls reuse one TLS connection, as the emulator's events show."""

    async def three(client: DuoClient) -> None:
        for _ in range(3):
            await client.health_check(creds)

    run(three, duo_emulator.ca_path)
    events = [
        e for e in duo_emulator.control.events("health_check") if e["client_id"] == creds.ikey
    ]
    assert len(events) == 3
    assert len({(e["connection"]["host"], e["connection"]["port"]) for e in events}) == 1


def test_timeouts_are_explicit() -> None:
    """Every Duo call has connect and read timeouts (the official SDK sets none)."""
    assert DEFAULT_TIMEOUT.connect == 3.0
    assert DEFAULT_TIMEOUT.read == 5.0


def test_admin_health_check_verdicts(creds: DuoCredentials, duo_emulator: RunningEmulator) -> None:
    """The admin check says ok, invalid_client (with Duo's words) or unreachable."""
    ca = duo_emulator.ca_path
    ok = check_credentials(creds.ikey, creds.skey, creds.api_host, ca_file=ca, allow_any_host=True)
    assert ok.status == "ok"
    bad = check_credentials(creds.ikey, "y" * 40, creds.api_host, ca_file=ca, allow_any_host=True)
    assert bad.status == "invalid_client"
    assert "The provided client_assertion was invalid." in bad.message
    gone = check_credentials(creds.ikey, creds.skey, "127.0.0.1:9", timeout=2, allow_any_host=True)
    assert gone.status == "unreachable"
    duo_emulator.control.set_faults(health="error_500")
    down = check_credentials(
        creds.ikey, creds.skey, creds.api_host, ca_file=ca, allow_any_host=True
    )
    assert (down.status, down.message) == ("unreachable", "Duo health check answered HTTP 500")


def test_item12_ssrf_no_call_leaves_for_a_host_that_is_not_duos(creds: DuoCredentials) -> None:
    """Health check, exchange and prompt URL refuse a non-Duo host before any request."""
    sent: list[httpx2.Request] = []

    def record(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        return httpx2.Response(200, json={"stat": "OK"})

    async def work() -> None:
        client = DuoClient(transport=httpx2.MockTransport(record))
        try:
            with pytest.raises(DuoConfigError, match="not a Duo API hostname"):
                await client.health_check(creds)
            with pytest.raises(DuoConfigError, match="KDB_DUO_ALLOW_ANY_HOST"):
                await client.exchange(
                    creds, code="c", redirect_uri=REDIRECT, username="u", nonce="n"
                )
            with pytest.raises(DuoConfigError, match="not a Duo API hostname"):
                client.authorize_url(
                    creds, redirect_uri=REDIRECT, state="s", username="u", nonce="n"
                )
        finally:
            await client.aclose()

    run_async(work())
    assert sent == []
    verdict = check_credentials(creds.ikey, creds.skey, creds.api_host)
    assert verdict.status == "invalid_client"
    assert "not a Duo API hostname" in verdict.message


OK_BODY = b'{"stat": "OK", "response": {"timestamp": 1}}'
Script = Callable[[int, asyncio.StreamWriter], Awaitable[bool]]
"""``(request number, writer) -> keep the connection open``: how the server answers."""


async def read_request(reader: asyncio.StreamReader) -> bool:
    """Read one request (head and Content-Length body); False at end of stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return False
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    await reader.readexactly(length)
    return True


def over_tls(tmp_path: Path, script: Script, calls: int) -> tuple[list[str], int]:
    """Health checks against a loopback TLS server answering by ``script``.

    Returns each call's outcome and how many connections the server accepted.
    """
    paths = ensure_certificates(tmp_path, "127.0.0.1")
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(paths.cert, paths.key)
    requests = 0
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal requests, connections
        connections += 1
        try:
            while await read_request(reader):
                requests += 1
                if not await script(requests, writer):
                    break
        finally:
            writer.close()

    async def main() -> list[str]:
        server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_tls)
        port = server.sockets[0].getsockname()[1]
        creds = DuoCredentials(ikey="DI" + "A" * 18, skey="s" * 40, api_host=f"127.0.0.1:{port}")
        client = DuoClient(ca_file=paths.ca, allow_any_host=True)
        outcomes = []
        try:
            for _ in range(calls):
                try:
                    await client.health_check(creds)
                    outcomes.append("ok")
                except (DuoUnavailableError, DuoConfigError) as exc:
                    outcomes.append(type(exc).__name__)
                await asyncio.sleep(0.05)  # idle between logins
        finally:
            await client.aclose()
            server.close()
        return outcomes

    return run_async(main()), connections


def answer(body: bytes = OK_BODY, *, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + extra
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


def test_item12_a_stray_408_on_an_idle_connection_is_not_the_next_answer(tmp_path: Path) -> None:
    """A server's unsolicited 408 on a kept-alive connection never becomes a login's answer."""

    async def script(number: int, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer())
        await writer.drain()
        await asyncio.sleep(0.01)  # the connection idles in the client's pool, then the
        # server gives up on it the way some servers and proxies do: an unasked-for 408
        writer.write(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        return number < 10  # keep it open: the stray bytes sit there

    outcomes, connections = over_tls(tmp_path, script, calls=3)
    assert outcomes == ["ok", "ok", "ok"]
    assert connections == 3  # each stale connection was dropped, not read


def test_item12_informational_answers_and_close_delimited_bodies(tmp_path: Path) -> None:
    """A 1xx before the answer is skipped; a body ended by closing the connection is whole."""

    async def script(number: int, writer: asyncio.StreamWriter) -> bool:
        if number == 1:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n" + answer())
            await writer.drain()
            return True
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + OK_BODY)
        await writer.drain()
        return False  # the end of the body is the end of the connection

    outcomes, connections = over_tls(tmp_path, script, calls=2)
    assert outcomes == ["ok", "ok"]
    assert connections == 1
