"""CIBA ping mode's listener and the `login` command's refusals of bad arguments (#16)."""

from __future__ import annotations

import httpx2
import pytest

from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.login.ping import PingListener

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
