"""HAProxy in front of a pair: the generated config, round robin, pinning, and a dead server."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.errors import SandboxError
from keycloak_duo_bridge.sandbox import balancer
from keycloak_duo_bridge.sandbox.balancer import SERVED_BY, Balancer, BalancerConfig, Upstream
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.sandbox.tls import ServerTls, server_tls
from keycloak_duo_bridge.serving import ServerThread, bind, start_in_thread

PIN = "X-Test-Pin"

pytestmark = pytest.mark.production


def _hello(request: Request) -> Response:
    status = 503 if request.url.path == "/not-ready" else 200
    return PlainTextResponse(f"{request.method} {request.url.path}", status_code=status)


def _server(name: str) -> ServerThread:
    sock = bind("127.0.0.1", 0)
    app = Starlette(routes=[Route("/{path:path}", _hello, methods=["GET", "POST"])])
    config = uvicorn.Config(app, log_config=None, lifespan="off", access_log=False)
    return start_in_thread(config, sock, name=name)


@pytest.fixture
def tls(tmp_path: Path) -> ServerTls:
    """The harness's CA and a certificate for localhost."""
    return server_tls(tmp_path / "tls", "localhost")


@pytest.fixture
def pair(tls: ServerTls, tmp_path: Path) -> Iterator[tuple[Balancer, dict[str, ServerThread]]]:
    """Two plain HTTP servers behind a TLS balancer with a pin header."""
    servers = {name: _server(name) for name in ("one", "two")}
    upstreams = tuple(Upstream(name, server.port) for name, server in servers.items())
    config = BalancerConfig("test", free_port(), upstreams, "/healthz", tls=tls, pin_header=PIN)
    running = Balancer(config, tmp_path / "lb")
    try:
        running.start()
        yield running, servers
    finally:
        running.stop()
        for server in servers.values():
            server.stop()


def test_round_robin_pins_and_survives_a_dead_server(
    pair: tuple[Balancer, dict[str, ServerThread]], tls: ServerTls
) -> None:
    """Requests alternate without stickiness, a pin wins, and a dead server costs no error."""
    running, servers = pair
    assert running.url.startswith("https://localhost:")
    assert repr(running) == f"Balancer('test', url={running.url!r})"
    with httpx2.Client(verify=tls_context(tls.ca)) as client:
        seen = [client.get(f"{running.url}/x").headers[SERVED_BY] for _ in range(4)]
        assert sorted(seen) == ["one", "one", "two", "two"]
        pinned = [client.get(f"{running.url}/x", headers={PIN: "two"}) for _ in range(3)]
        assert [r.headers[SERVED_BY] for r in pinned] == ["two"] * 3
        servers["one"].stop()
        after = [client.post(f"{running.url}/y", data={"a": "b"}) for _ in range(6)]
    assert [r.status_code for r in after] == [200] * 6
    assert {r.headers[SERVED_BY] for r in after} == {"two"}


def test_the_config_reencrypts_to_tls_upstreams(tls: ServerTls) -> None:
    """A TLS upstream is verified against its CA and host, and checked on its own port."""
    upstream = Upstream("kc-1", 8443, ca=tls.ca, check_port=9000)
    text = balancer.config_text(BalancerConfig("kc", 443, (upstream,), "/health/ready"))
    assert (
        f"server kc-1 127.0.0.1:8443 ssl verify required ca-file {tls.ca} verifyhost localhost"
        in text
    )
    assert "check-ssl port 9000" in text
    assert "server kc-1-fallback 127.0.0.1:8443 ssl verify required" in text
    assert text.rstrip().endswith("sni str(localhost) backup")
    assert "use-server" not in text
    assert "retry-on conn-failure empty-response" in text
    plain = BalancerConfig("b", 80, (Upstream("b1", 8000),), "/healthz")
    assert plain.url == "http://127.0.0.1:80"
    assert "X-Forwarded-Proto http\n" in balancer.config_text(plain)


def test_a_bad_config_or_missing_haproxy_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HAProxy's own check refuses a bad config; without the package, the error names it."""
    bad = BalancerConfig("bad", 80, (Upstream("x", 1, host="no such host"),), "/")
    with pytest.raises(SandboxError, match="haproxy refused"):
        Balancer(bad, tmp_path).start()
    monkeypatch.setattr(shutil, "which", lambda *_a, **_k: None)
    with pytest.raises(SandboxError, match="`haproxy` package"):
        balancer.haproxy_binary()


def test_a_balancer_that_cannot_bind_says_why(tmp_path: Path) -> None:
    """An address not on this machine passes the config check but stops HAProxy at start."""
    config = BalancerConfig("nowhere", 8080, (Upstream("x", 1),), "/", host="192.0.2.1")
    running = Balancer(config, tmp_path)
    with pytest.raises(SandboxError, match="haproxy nowhere exited"):
        running.start()
    running.stop()  # stopping twice is harmless


def test_when_every_server_fails_its_check_the_fallbacks_serve(tmp_path: Path) -> None:
    """Every server not ready: requests still reach them (as fallbacks), never HAProxy's 503."""
    servers = {name: _server(name) for name in ("one", "two")}
    upstreams = tuple(Upstream(name, server.port) for name, server in servers.items())
    running = Balancer(BalancerConfig("sick", free_port(), upstreams, "/not-ready"), tmp_path)
    try:
        running.start()
        deadline = time.monotonic() + 15  # until the checks have taken both servers out
        while "fallback" not in httpx2.get(f"{running.url}/x").headers[SERVED_BY]:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        answers = [httpx2.get(f"{running.url}/x") for _ in range(4)]
    finally:
        running.stop()
        for server in servers.values():
            server.stop()
    assert [a.status_code for a in answers] == [200] * 4
    assert {a.headers[SERVED_BY] for a in answers} == {"one-fallback", "two-fallback"}
