"""CIBA ping mode's listener and the `login` command's refusals of bad arguments (#16)."""

from __future__ import annotations

import itertools

import httpx2
import pytest

from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.login.client import ciba_login
from keycloak_duo_bridge.login.ping import PingListener
from keycloak_duo_bridge.login.protocol import LoginError

SECRET = "a-client-secret"


def test_the_listener_refuses_pings_without_the_login_token() -> None:
    """A ping without this login's client_notification_token (or with a bad body) is 401
    and wakes nothing; the right one is 204 and does."""
    with PingListener("127.0.0.1", 0) as ping:
        url = f"http://127.0.0.1:{ping.port}/ciba/ping"
        body = {"auth_req_id": "r-1"}
        assert httpx2.post(url, json=body).status_code == 401
        wrong = {"Authorization": "Bearer not-the-token"}
        assert httpx2.post(url, json=body, headers=wrong).status_code == 401
        right = {"Authorization": f"Bearer {ping.token}"}
        assert httpx2.post(url, content=b"not json", headers=right).status_code == 401
        assert not ping.wait(0.05)
        assert httpx2.post(url, json=body, headers=right).status_code == 204
        assert ping.wait(1)


def test_bad_ping_addresses_are_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--ping-listen must be HOST:PORT on a free port; with --device it is refused."""
    monkeypatch.setenv("KDB_TEST_SECRET", SECRET)
    base = ["login", "--realm", "r", "--client", "c", "--keycloak-url", "http://127.0.0.1:1"]
    ciba = [*base, "--user", "ann", "--secret-env", "KDB_TEST_SECRET"]
    assert main([*ciba, "--ping-listen", "nowhere"]) == 1
    assert "wants HOST:PORT" in capsys.readouterr().err
    with PingListener("127.0.0.1", 0) as taken:
        assert main([*ciba, "--ping-listen", f"127.0.0.1:{taken.port}"]) == 1
    assert "cannot listen on" in capsys.readouterr().err
    assert main([*base, "--device", "--ping-listen", "127.0.0.1:9"]) == 1
    assert "are CIBA's" in capsys.readouterr().err
    assert main([*base, "--secret-env", "KDB_TEST_SECRET"]) == 1
    assert "needs --user" in capsys.readouterr().err
    assert main([*base, "--user", "ann"]) == 1
    assert "needs the client secret" in capsys.readouterr().err


def test_a_ping_mode_login_sends_its_token_and_ends_at_the_expiry() -> None:
    """Ping mode: the request carries the listener's client_notification_token; with no ping
    before the request expires, the login ends with LoginError (one poll, not one per tick)."""
    forms: list[bytes] = []

    def keycloak(request: httpx2.Request) -> httpx2.Response:
        forms.append(request.content)
        if request.url.path.endswith("/ext/ciba/auth"):
            return httpx2.Response(200, json={"auth_req_id": "r", "expires_in": 60, "interval": 5})
        return httpx2.Response(400, json={"error": "authorization_pending"})

    clock = itertools.chain([0.0, 0.0, 0.0], itertools.repeat(100.0))
    ticks: list[None] = []
    with (
        PingListener("127.0.0.1", 0) as ping,
        httpx2.Client(transport=httpx2.MockTransport(keycloak)) as http,
        pytest.raises(LoginError, match="expired"),
    ):
        ciba_login(
            http,
            keycloak_url="http://kc.example",
            realm="acme",
            client_id="cli",
            client_secret="s",
            username="ann",
            ping=ping,
            on_wait=lambda: ticks.append(None),
            clock=lambda: next(clock),
        )
    assert f"client_notification_token={ping.token}".encode() in forms[0]
    assert len(forms) == 2  # the start, then one token request
    assert len(ticks) == 2  # the loop's own tick, and one while waiting for the ping
