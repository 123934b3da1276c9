"""The sandbox Keycloak is the real server, and it loaded our extension."""

from __future__ import annotations

import socket

import httpx2
import pytest
from keycloak import KeycloakAdmin

from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.errors import PortBusyError
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.settings import load_settings
from tests.fixtures_sandbox import point_cli_at, say

pytestmark = pytest.mark.keycloak


def test_runs_keycloak_26_7_3(keycloak_sandbox: SandboxKeycloak) -> None:
    """The sandbox reports a ready Keycloak 26.7.3, and the server itself says so too."""
    status = keycloak_sandbox.status()
    assert status.running
    assert status.ready
    assert status.version == "26.7.3"
    server_info = httpx2.get(f"{keycloak_sandbox.url}/realms/master", timeout=10)
    assert server_info.status_code == 200
    log = keycloak_sandbox.log_file.read_text(encoding="utf-8")
    assert "Keycloak 26.7.3" in log


def test_duo_step_up_is_registered(
    keycloak_admin: KeycloakAdmin, pytestconfig: pytest.Config
) -> None:
    """Keycloak's admin API lists duo-step-up among its required-action providers."""
    response = keycloak_admin.connection.raw_get(
        "admin/realms/master/authentication/unregistered-required-actions"
    )
    providers = {entry["providerId"]: entry["name"] for entry in response.json()}
    assert providers.get("duo-step-up") == "Duo two-factor step-up"
    say(pytestconfig, "duo-step-up is registered among Keycloak's required-action providers")


def test_up_again_reports_the_running_server(keycloak_sandbox: SandboxKeycloak) -> None:
    """A second `up` on the same state dir reuses the running server instead of starting one."""
    messages: list[str] = []
    again = SandboxKeycloak(keycloak_sandbox.settings)
    status = again.up(progress=messages.append)
    assert status.pid == keycloak_sandbox.status().pid
    assert messages == [f"Keycloak already running at {keycloak_sandbox.url}"]


def test_refuses_a_busy_port(
    keycloak_sandbox: SandboxKeycloak, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Starting a second sandbox on the running one's HTTP port is refused, naming the port."""
    settings = load_settings(
        state_dir=tmp_path_factory.mktemp("other"),
        sandbox_http_port=keycloak_sandbox.settings.sandbox_http_port,
        sandbox_management_port=free_port(),
    )
    with pytest.raises(PortBusyError, match=r"already in use.*KDB_SANDBOX_HTTP_PORT"):
        SandboxKeycloak(settings).up()


def test_refuses_a_busy_management_port(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A busy management port is refused too, before anything is downloaded or started."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        settings = load_settings(
            state_dir=tmp_path_factory.mktemp("busy"),
            sandbox_http_port=free_port(),
            sandbox_management_port=listener.getsockname()[1],
        )
        with pytest.raises(PortBusyError, match="KDB_SANDBOX_MANAGEMENT_PORT"):
            SandboxKeycloak(settings).up()
    assert not (settings.state_dir / "keycloak-26.7.3").exists()


def test_cli_status_and_env_point_at_the_sandbox(
    keycloak_sandbox: SandboxKeycloak,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`sandbox keycloak status` says ready; `sandbox env` prints exports for its URL and admin."""
    monkeypatch.setenv("KDB_STATE_DIR", str(keycloak_sandbox.state_dir))
    assert main(["sandbox", "keycloak", "status"]) == 0
    assert f"26.7.3: ready at {keycloak_sandbox.url}" in capsys.readouterr().out
    assert main(["sandbox", "env"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"export KDB_KEYCLOAK_URL={keycloak_sandbox.url}" in lines
    assert "export KDB_KEYCLOAK_ADMIN_USERNAME=admin" in lines
    assert "export KDB_KEYCLOAK_ADMIN_PASSWORD=admin" in lines


def test_cli_up_on_a_running_sandbox_prints_where_it_is(
    keycloak_sandbox: SandboxKeycloak,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`sandbox keycloak up` on a running sandbox reports it: URL, admin console and log."""
    point_cli_at(keycloak_sandbox, monkeypatch)
    assert main(["sandbox", "keycloak", "up"]) == 0
    captured = capsys.readouterr()
    assert f"Keycloak 26.7.3 is running at {keycloak_sandbox.url}" in captured.out
    assert f"Admin console: {keycloak_sandbox.url}/admin/" in captured.out
    assert "already running" in captured.err
